import { aliasDropped, EXTRA_DEVICE_TAGS, parseExtraDevice } from "../libvirt/devices";
import { atLeast } from "../util/version";
import type { Rule } from "./rule";

/** The smallest domain libvirt's schema accepts, around one device (extra-device-schema). */
const SCHEMA_PROBE_HEAD =
  "<domain type='kvm'><name>kpv-schema-check</name><memory unit='KiB'>65536</memory><os><type arch='x86_64'>hvm</type></os><devices>";
const SCHEMA_PROBE_TAIL = "</devices></domain>";

/** The devices a spec declares: identities that clash, what the machine or the host cannot give, what the guest cannot drive. */

function repeated<T>(xs: readonly T[]): T[] {
  const seen = new Set<T>();
  const out = new Set<T>();
  for (const x of xs) (seen.has(x) ? out : seen).add(x);
  return [...out];
}

/** Linux got virtio (blk, net, console) in 2.6.25. */
const VIRTIO_KERNEL = "2.6.25";

export const DEVICE_RULES: readonly Rule[] = [
  {
    code: "device-target-twice",
    severity: "error",
    summary: "Two disks on one target: libvirt refuses the definition.",
    check: (r) =>
      repeated((r.domain.disks ?? []).map((d) => d.target)).map((t) => ({
        path: "disks",
        message: `two disks have target ${t}: libvirt refuses the definition ("target '${t}' duplicated for disk sources")`,
      })),
  },
  {
    code: "nic-mac-twice",
    severity: "error",
    summary: "Two NICs with one MAC: libvirt accepts it, the guest's network does not work, and the two cannot be told apart.",
    check: (r) =>
      repeated((r.domain.nics ?? []).flatMap((n) => (n.mac ? [n.mac] : []))).map((m) => ({
        path: "nics",
        message: `two NICs have MAC ${m}: libvirt defines and starts the domain, but two interfaces with one address break the guest's network, and neither can be told apart on update`,
      })),
  },
  {
    code: "device-boot-order-twice",
    severity: "error",
    summary: "Two devices with one boot order: libvirt refuses the definition.",
    check: (r) =>
      repeated([...(r.domain.disks ?? []), ...(r.domain.nics ?? [])].flatMap((d) => (d.boot !== undefined ? [d.boot] : []))).map((b) => ({
        path: "disks",
        message: `boot order ${b} is given to two devices: libvirt refuses the definition ("boot order '${b}' used for more than one device")`,
      })),
  },
  {
    code: "device-bus-missing-on-machine",
    severity: "error",
    summary: "A disk on a bus the machine type lacks (IDE on q35): libvirt refuses the definition.",
    check: (r) =>
      r.machine.family === "q35"
        ? (r.domain.disks ?? []).flatMap((d, i) =>
            d.bus === "ide"
              ? [
                  {
                    path: `disks[${i}].bus`,
                    message: `q35 machines have no IDE bus (${d.target}): libvirt refuses the definition ("IDE controllers are unsupported for this QEMU binary or machine type"); use bus sata (target sd*)`,
                  },
                ]
              : [],
          )
        : [],
  },
  {
    code: "network-unknown-on-host",
    severity: "error",
    summary: "A NIC on a libvirt network the host does not define (host profile networks): libvirt refuses to start the domain.",
    check: (r) => {
      const known = r.host.networks;
      if (!known) return [];
      return (r.domain.nics ?? []).flatMap((n, i) =>
        n.type === "network" && !known.some((k) => k.name === n.source)
          ? [
              {
                path: `nics[${i}].network`,
                message: `the host defines no libvirt network ${n.source} (it has: ${known.map((k) => k.name).join(", ") || "none"}): libvirt refuses to start the domain ("Network not found")`,
              },
            ]
          : [],
      );
    },
  },
  {
    code: "network-inactive-on-host",
    severity: "warning",
    summary: "A NIC on a libvirt network that is defined but not active: the domain does not start until it is (virsh net-start).",
    check: (r) =>
      (r.domain.nics ?? []).flatMap((n, i) =>
        n.type === "network" && r.host.networks?.some((k) => k.name === n.source && !k.active)
          ? [
              {
                path: `nics[${i}].network`,
                message: `network ${n.source} is defined but not active on the host: the domain will not start ("network '${n.source}' is not active") until virsh net-start ${n.source}`,
              },
            ]
          : [],
      ),
  },
  {
    code: "disk-path-missing",
    severity: "error",
    summary: "A disk or cdrom file that does not exist on the (local) host: libvirt refuses to start the domain.",
    check: (r, env) =>
      env.pathExists
        ? (r.domain.disks ?? []).flatMap((d, i) =>
            d.file !== undefined && !env.pathExists!(d.file)
              ? [
                  {
                    path: `disks[${i}].file`,
                    message: `${d.file} does not exist on this host: libvirt refuses to start the domain ("Cannot access storage file '${d.file}': No such file or directory"); create it first (qemu-img create)`,
                  },
                ]
              : [],
          )
        : [],
  },
  {
    code: "extra-device-invalid",
    severity: "error",
    summary: "An extraDevices entry that is not one libvirt device element (or names its own <alias>).",
    check: (r) =>
      (r.domain.extraDevices ?? []).flatMap((xml, i) => {
        const x = parseExtraDevice(xml, i);
        return "problem" in x
          ? [{ path: `extraDevices[${i}]`, message: `${x.problem}; allowed: one of <${EXTRA_DEVICE_TAGS.join(">, <")}>` }]
          : [];
      }),
  },
  {
    code: "extra-device-schema",
    severity: "error",
    summary: "An extraDevices entry libvirt's schema refuses (virt-xml-validate, where the edge has it): libvirt would refuse the define.",
    check: (r, env) =>
      env.schemaProblem
        ? (r.domain.extraDevices ?? []).flatMap((xml, i) => {
            const x = parseExtraDevice(xml, i);
            // the device alone in the smallest domain libvirt's schema takes; the whole definition is validated again before a define
            const problem = "node" in x ? env.schemaProblem!(`${SCHEMA_PROBE_HEAD}${xml}${SCHEMA_PROBE_TAIL}`) : null;
            return problem ? [{ path: `extraDevices[${i}]`, message: `libvirt's schema refuses the definition: ${problem}` }] : [];
          })
        : [],
  },
  {
    code: "extra-device-alias-dropped",
    severity: "error",
    summary:
      "An extraDevices entry libvirt keeps without the alias kvm-paravirt finds it by (<graphics>, <audio>, model 'none', a console on a serial target): plan would add it again forever.",
    check: (r) =>
      (r.domain.extraDevices ?? []).flatMap((xml, i) => {
        const x = parseExtraDevice(xml, i);
        const row = "node" in x ? aliasDropped(x.node) : undefined;
        return row
          ? [
              {
                path: `extraDevices[${i}]`,
                message: `${row.what}: libvirt defines it but drops the alias kvm-paravirt names it by (ua-kpv-extra-${i}), so it is never found again and every plan would add it anew; ${row.instead}`,
              },
            ]
          : [];
      }),
  },
  {
    code: "extra-device-unchecked",
    severity: "warning",
    summary:
      "An extraDevices entry is passed through unchecked by kvm-paravirt: only libvirt's schema (before a define) and libvirt itself judge it.",
    check: (r) =>
      (r.domain.extraDevices ?? []).flatMap((xml, i) =>
        "node" in parseExtraDevice(xml, i)
          ? [
              {
                path: `extraDevices[${i}]`,
                message: `passed through unchecked: kvm-paravirt does not model this device; libvirt's schema (virt-xml-validate) checks it before a define, and libvirt decides whether it works`,
              },
            ]
          : [],
      ),
  },
  {
    code: "guest-lacks-virtio",
    severity: "warning",
    summary: "Virtio disks or NICs for a guest kernel older than 2.6.25, which has no virtio drivers.",
    check: (r) => {
      const k = r.domain.guest?.kernel;
      if (!k || atLeast(k, VIRTIO_KERNEL)) return [];
      const virtio = [
        ...(r.domain.disks ?? []).filter((d) => d.bus === "virtio").map((d) => d.target),
        // the NIC's own index (numbering after the filter named the wrong NIC)
        ...(r.domain.nics ?? []).flatMap((n, i) => (n.model === "virtio" ? [`nics[${i}]`] : [])),
      ];
      return virtio.length
        ? [
            {
              path: "guest.kernel",
              message: `the guest kernel ${k} has no virtio drivers (Linux ${VIRTIO_KERNEL}+), so it cannot use ${virtio.join(", ")}: use bus sata and model e1000e`,
            },
          ]
        : [];
    },
  },
];
