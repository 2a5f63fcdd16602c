/**
 * The entry point the recording scripts share (record-kvm.js, record-hyperv.js): exit codes
 * (0 done, 1 failed, 2 usage, 130 interrupted), the QEMU processes they started killed on
 * every way out, and no stack trace for a failure the script itself explains.
 */

/** Bad arguments: the message, then the usage, exit 2. */
class UsageError extends Error {}
/** A failure the script explains (a host that cannot run the measurement): the message only, exit 1. */
class FatalError extends Error {}

/**
 * Runs `main(argv)` as the process: `cleanup` (kill what was started, remove temporary files)
 * runs on SIGINT/SIGTERM and on a failure; `name` prefixes every message.
 */
function runAsScript({ name, usage, main, cleanup }) {
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      cleanup();
      process.stderr.write(`${name}: ${sig}, stopped\n`);
      process.exit(130);
    });
  }
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      cleanup();
      if (e instanceof UsageError) {
        process.stderr.write(`${name}: ${e.message}\n${usage}\n`);
        process.exit(2);
      }
      process.stderr.write(`${name}: ${e instanceof FatalError ? e.message : (e && e.stack) || String(e)}\n`);
      process.exit(1);
    },
  );
}

module.exports = { UsageError, FatalError, runAsScript };
