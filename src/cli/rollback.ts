// bootsmith rollback: undo the newest registration at a boot service, from the record
// `register` saved (restores replaced params, deletes entries it created).
import { EXIT, UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs } from "./args.js";
import { connectionFrom, printableTarget, registrationContext, selectorsFrom, TARGET_HELP, TARGET_OPTIONS, targetFrom } from "./register.js";
import { rollback } from "../register/register.js";
import { defaultStateDir, listRecords } from "../register/state.js";
import { redactUrl } from "../register/http.js";

export const rollbackCommand: CliCommand = {
  name: "rollback",
  summary: "Restore the boot params a registration replaced",
  usage: `Usage: bootsmith rollback (--bss URL | --boot-service URL --name NAME | --cluster NAME) [options]

Undoes the newest registration at that service that is not rolled back yet: params it replaced
are put back, entries it created are deleted, then read back. Run it again to go back one more
registration. Refuses when an entry changed since that registration (someone else registered);
--force restores anyway. Credentials are given as to register: a token, or user:password in the
service URL (the record does not keep a password: give the same URL again).

Options:
  --mac/--host/--nid …   restore only these nodes (default: every node of that registration)
  --dry-run              print what would be restored; change nothing
  --force                restore even if the entries changed since
  --list                 list the registration records for the service, newest first
  --state-dir DIR        where register saved records (default ~/.local/state/bootsmith/registrations)
  --json                 print the result as JSON

${TARGET_HELP}

Example:
  bootsmith rollback --bss https://ochami.example:8443 --dry-run`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("rollback", args, { ...TARGET_OPTIONS, force: { type: "boolean" }, list: { type: "boolean" } });
    if (positionals.length > 0)
      throw new UserError(
        `bootsmith rollback: unexpected argument ${JSON.stringify(positionals[0])}; the service is named by --bss, --boot-service or --cluster`,
      );
    const log = (l: string) => process.stderr.write(`${l}\n`);
    try {
      const target = targetFrom("rollback", values);
      if (!target) throw new UserError("bootsmith rollback: say which service: --bss URL, --boot-service URL --name NAME, or --cluster NAME");
      const stateDir = values["state-dir"] ?? defaultStateDir();
      if (values.list) {
        const records = await listRecords(stateDir, target.url, target.type === "boot-service" ? target.name : undefined);
        // A record written by an older bootsmith may still hold user:password in its URL.
        const printable = records.map((r) => ({ ...r, record: { ...r.record, target: printableTarget(r.record.target) } }));
        if (values.json) process.stdout.write(`${JSON.stringify(printable, null, 2)}\n`);
        else if (records.length === 0) process.stdout.write(`no registrations recorded for ${redactUrl(target.url)} in ${stateDir}\n`);
        else
          for (const r of records)
            process.stdout.write(
              `${r.record.id}  ${r.record.image.name}:${r.record.image.tag}  ${r.record.mode}  ${r.record.rolledBackAt ? `rolled back ${r.record.rolledBackAt}` : "active"}  ${(r.record.entries ?? []).length || 1} entr${(r.record.entries ?? []).length === 1 ? "y" : "ies"}\n`,
            );
        return EXIT.ok;
      }
      const selectors = selectorsFrom("rollback", values);
      const any = (selectors.macs?.length ?? 0) + (selectors.hosts?.length ?? 0) + (selectors.nids?.length ?? 0) > 0;
      const result = await rollback(target, {
        ...connectionFrom("rollback", values, values.json ? () => {} : log),
        stateDir,
        dryRun: values["dry-run"] === true,
        force: values.force === true,
        ...(any ? { selectors } : {}),
      });
      if (values.json) process.stdout.write(`${JSON.stringify({ ...result, target: printableTarget(result.target) }, null, 2)}\n`);
      // A real run showed its diff on stderr before writing (as register does); only a dry run prints it here.
      else process.stdout.write(result.written ? `rolled back (record ${result.record})\n` : `${result.diff}\ndry run: nothing changed\n`);
      return EXIT.ok;
    } catch (error) {
      throw registrationContext(error);
    }
  },
};
