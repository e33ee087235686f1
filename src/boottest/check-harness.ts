// Delivers the checks to the booted node without touching the image: a small cpio archive that
// the iPXE script loads as a second initrd. The kernel unpacks every initrd cpio into the same
// rootfs, so the archive adds one file to dracut's initramfs: a pre-pivot hook. dracut sources
// it after the live root is mounted at /sysroot and before switch-root; it writes the check
// runner, the checks and a one-shot systemd unit into /run (tmpfs, which systemd carries into the
// booted system), and links the unit into multi-user.target.wants under /run/systemd/system —
// systemd's runtime unit directory. Nothing is written to the image's squashfs or its overlay.
//
// Why not systemd.run= on the kernel command line: it makes kernel-command-line.service the
// default target (the node would not boot to multi-user as it does in production), powers off
// when the command ends, and would put the whole check script on the command line.
import { cpioArchive, cpioEntry } from "./cpio-writer.js";
import { shQuote, type NodeCheck } from "./checks.js";

/** Where the harness lives in the booted node (RAM). */
export const HARNESS_DIR = "/run/bootsmith";
export const HARNESS_UNIT = "bootsmith-checks.service";
/** The URL path the artifact server offers the archive at. */
export const HARNESS_PATH = "/bootsmith-checks.cpio";
/** dracut's hook directory (/lib is usr/lib in merged-/usr initramfs images; the kernel follows the link). */
const HOOK_FILE = "lib/dracut/hooks/pre-pivot/90-bootsmith-checks.sh";

/** Base64 characters per console line: well under the tty's and the kernel log's line limits. */
export const CHUNK_CHARS = 300;
/** Output kept per stream and check (its tail): the console is a 115200-baud serial line. */
export const OUTPUT_BYTES = 4096;
/** How long the runner waits for systemd to finish starting the system before running checks. */
export const SETTLE_SECONDS = 300;

const UNIT = `[Unit]
Description=bootsmith boot-test checks (delivered by the test harness, not part of the image)
After=multi-user.target

[Service]
# simple, not oneshot: the unit's start job ends at once, so "systemctl is-system-running --wait"
# in the runner does not wait for the runner itself.
Type=simple
ExecStart=/bin/sh ${HARNESS_DIR}/run-checks.sh
`;

/**
 * The runner, /bin/sh in the booted node. Framed lines on the serial console (the one named by
 * console=ttyS* or ttyAMA* (arm64), written directly: journald may not forward to it) and the START/END lines also
 * to the kernel log, whose console copy survives a getty resetting the tty. Frames:
 *   BOOTSMITH-CHECKS BEGIN <count>
 *   BOOTSMITH-CHECK <name> START
 *   BOOTSMITH-CHECK <name> OUT|ERR <i>/<n> <base64 chunk>
 *   BOOTSMITH-CHECK <name> END exit=<code> ms=<milliseconds> out=<n> err=<n>
 *   BOOTSMITH-CHECKS DONE
 */
export const RUNNER = `#!/bin/sh
# bootsmith boot-test check runner (test harness; lives in ${HARNESS_DIR} only, in RAM).
dir=${HARNESS_DIR}
tty=$(sed -n 's/.*console=\\(tty\\(S\\|AMA\\)[0-9][0-9]*\\).*/\\1/p' /proc/cmdline)
con=/dev/\${tty:-console}
say() { printf '%s\\n' "$*" > "$con" 2>/dev/null; }
tell() { say "$*"; printf '%s\\n' "$*" > /dev/kmsg 2>/dev/null; }
# send NAME OUT|ERR FILE: the file's tail as base64 chunks; prints the chunk count.
send() {
  data=$(tail -c ${OUTPUT_BYTES} "$3" | base64 | tr -d '\\n')
  n=$(( (\${#data} + ${CHUNK_CHARS - 1}) / ${CHUNK_CHARS} ))
  i=1
  while [ "$i" -le "$n" ]; do
    say "BOOTSMITH-CHECK $1 $2 $i/$n $(printf '%s' "$data" | cut -c $(( (i - 1) * ${CHUNK_CHARS} + 1 ))-$(( i * ${CHUNK_CHARS} )))"
    i=$((i + 1))
  done
  echo "$n"
}
timeout ${SETTLE_SECONDS} systemctl is-system-running --wait > /dev/null 2>&1
tell "BOOTSMITH-CHECKS BEGIN $(wc -l < "$dir/checks.list")"
while read -r file name limit; do
  tell "BOOTSMITH-CHECK $name START"
  t0=$(date +%s%N)
  timeout -k 5 "$limit" /bin/sh "$dir/$file" > "$dir/$file.out" 2> "$dir/$file.err" < /dev/null
  rc=$?
  t1=$(date +%s%N)
  o=$(send "$name" OUT "$dir/$file.out")
  e=$(send "$name" ERR "$dir/$file.err")
  tell "BOOTSMITH-CHECK $name END exit=$rc ms=$(( (t1 - t0) / 1000000 )) out=$o err=$e"
done < "$dir/checks.list"
tell "BOOTSMITH-CHECKS DONE"
`;

/** The files the hook writes, by path in the booted node. */
export function harnessFiles(checks: readonly NodeCheck[]): Map<string, string> {
  const files = new Map<string, string>();
  files.set(`${HARNESS_DIR}/run-checks.sh`, RUNNER);
  const list: string[] = [];
  checks.forEach((c, i) => {
    const file = `${String(i + 1).padStart(2, "0")}-${c.name}.sh`;
    files.set(`${HARNESS_DIR}/${file}`, `${c.script}\n`);
    list.push(`${file} ${c.name} ${c.timeout}`);
  });
  files.set(`${HARNESS_DIR}/checks.list`, list.join("\n") + "\n");
  files.set(`/run/systemd/system/${HARNESS_UNIT}`, UNIT);
  return files;
}

/**
 * The pre-pivot hook. dracut sources it with its own shell, whose initramfs has no cat or cp:
 * every file is written with the printf builtin from a single-quoted literal.
 */
export function renderHook(checks: readonly NodeCheck[]): string {
  const lines = [
    "# bootsmith boot-test: install the check runner for the booted system, in /run (RAM) only.",
    `mkdir -p ${HARNESS_DIR} /run/systemd/system/multi-user.target.wants`,
  ];
  for (const [file, text] of harnessFiles(checks)) lines.push(`printf '%s' ${shQuote(text)} > ${file}`);
  lines.push(`ln -sf ../${HARNESS_UNIT} /run/systemd/system/multi-user.target.wants/${HARNESS_UNIT}`);
  lines.push(`echo "BOOTSMITH-HARNESS installed ${checks.length} checks" > /dev/kmsg`);
  return lines.join("\n") + "\n";
}

/** The second initrd: one file, the hook (its directory exists in every dracut initramfs). */
export function harnessCpio(checks: readonly NodeCheck[]): Buffer {
  return cpioArchive([cpioEntry(HOOK_FILE, 0o100755, Buffer.from(renderHook(checks)), 1)]);
}
