import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** `xsltproc --nonet` over a stylesheet and a document given as text (written to a folder removed afterwards). */
export function xsltproc(xsl: string, xml: string): { stdout: string; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpv-xslt-"));
  try {
    fs.writeFileSync(path.join(dir, "t.xsl"), xsl);
    fs.writeFileSync(path.join(dir, "t.xml"), xml);
    const r = spawnSync("xsltproc", ["--nonet", path.join(dir, "t.xsl"), path.join(dir, "t.xml")], { encoding: "utf8" });
    return { stdout: r.stdout, stderr: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A text stylesheet that writes `body` (XSLT, already escaped) once per node `forEach` selects, one line each. */
export const perNodeStylesheet = (forEach: string, body: string): string =>
  `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:output method="text"/>
<xsl:template match="/"><xsl:for-each select="${forEach}">${body}<xsl:text>&#10;</xsl:text></xsl:for-each></xsl:template></xsl:stylesheet>`;
