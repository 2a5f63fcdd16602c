import { KPV_NS } from "../render/domain-xml";

/**
 * The shell the Command child runs (`/bin/sh -c`). Nothing user-supplied is ever
 * interpolated: the domain XML arrives on stdin, the URI and the domain name in
 * the environment variables KVM_PARAVIRT_URI and KVM_PARAVIRT_DOMAIN, always
 * quoted. virsh reads definitions from a file, so stdin goes to a private temp file.
 */

/**
 * The UUID of the domain whose name is exactly $KVM_PARAVIRT_DOMAIN, or nothing. Every
 * later call addresses the domain by this UUID: `virsh --domain X` looks X up as an ID,
 * then a UUID, then a name, so a domain named "1" would otherwise reach the domain with ID 1.
 * The name is compared in awk through ENVIRON (no escapes are interpreted). A connection
 * that cannot list its domains fails the script: nothing is ever reported as gone on a guess.
 */
const LOOKUP_UUID = `list=$(virsh -q -c "$KVM_PARAVIRT_URI" list --all --uuid --name) || { echo "kvm-paravirt: cannot list the domains of the connection" >&2; exit 1; }
uuid=$(printf '%s\\n' "$list" | awk 'substr($0, 38) == ENVIRON["KVM_PARAVIRT_DOMAIN"] { print substr($0, 1, 36) }')`;

/**
 * create and update: define the domain from stdin; an existing domain (same name) is
 * updated through the stylesheet in KVM_PARAVIRT_MERGE_XSLT instead, so that its UUID,
 * devices and everything else the spec does not own stay (needs xsltproc).
 */
export const DEFINE_SCRIPT = `set -eu
uri="$KVM_PARAVIRT_URI"
dom="$KVM_PARAVIRT_DOMAIN"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tmp="$dir/domain.xml"
${LOOKUP_UUID}
if [ -n "$uuid" ]; then
  if ! command -v xsltproc >/dev/null 2>&1; then
    echo "kvm-paravirt: updating the existing domain $dom needs xsltproc (to keep its devices); install it (Debian: xsltproc)" >&2
    exit 1
  fi
  virsh -q -c "$uri" dumpxml --inactive --security-info --domain "$uuid" > "$dir/current.xml"
  printf '%s' "$KVM_PARAVIRT_MERGE_XSLT" > "$dir/merge.xsl"
  xsltproc --nonet -o "$tmp" "$dir/merge.xsl" "$dir/current.xml"
else
  cat > "$tmp"
fi
virsh -q -c "$uri" define --file "$tmp" >/dev/null
${LOOKUP_UUID}
state=$( [ -n "$uuid" ] && virsh -q -c "$uri" domstate --domain "$uuid" 2>/dev/null || echo unknown)
case "$state" in
  running|paused|idle|"in shutdown"|blocked|pmsuspended) echo "defined $dom: restart-required (it runs with its old CPU until restarted)" ;;
  *) echo "defined $dom" ;;
esac
`;

/**
 * delete: undefine the domain, found by its exact name, and only if it carries our
 * metadata (this tool defined it); a domain that is already gone is success.
 */
export const UNDEFINE_SCRIPT = `set -u
${LOOKUP_UUID}
if [ -z "$uuid" ]; then echo "already gone: $KVM_PARAVIRT_DOMAIN"; exit 0; fi
if ! virsh -q -c "$KVM_PARAVIRT_URI" dumpxml --inactive --domain "$uuid" | grep -q 'xmlns:kpv="${KPV_NS}"'; then
  echo "kvm-paravirt: $KVM_PARAVIRT_DOMAIN ($uuid) was not defined by kvm-paravirt (no kpv:paravirt metadata): left alone" >&2
  exit 1
fi
if out=$(virsh -q -c "$KVM_PARAVIRT_URI" undefine --domain "$uuid" 2>&1); then
  echo "undefined $KVM_PARAVIRT_DOMAIN"
  exit 0
fi
case "$out" in
  *"failed to get domain"*|*"Domain not found"*) echo "already gone: $KVM_PARAVIRT_DOMAIN"; exit 0 ;;
esac
printf '%s\\n' "$out" >&2
exit 1
`;
