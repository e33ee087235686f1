// vitest's order (slowest first from the last run's timings, files run one at a time), except
// the files listed here, which run last: they wait for a build that .ci/run starts before the
// suite and that goes on beside it. Run earlier, a file waiting would hold up every file after it.
import { BaseSequencer, type TestSpecification } from "vitest/node";

const RUN_LAST = ["test/e2e/aarch64.test.ts"];

export function runsLast(moduleId: string): boolean {
  return RUN_LAST.some((file) => moduleId.endsWith(`/${file}`));
}

export class WaitingFilesLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return [...sorted.filter((f) => !runsLast(f.moduleId)), ...sorted.filter((f) => runsLast(f.moduleId))];
  }
}
