// Cleanup is a stack: every step that creates something (container, mount, temp dir, partial
// upload) pushes its undo; success pops what should outlive the build, failure and signals
// unwind the rest in reverse order.

export interface Undo {
  readonly label: string;
  readonly run: () => Promise<void>;
}

export class CleanupStack {
  private readonly undos: Undo[] = [];

  /** Register an undo; returns a function that drops it (the resource was kept or handed on). */
  push(label: string, run: () => Promise<void>): () => void {
    const undo: Undo = { label, run };
    this.undos.push(undo);
    return () => {
      const i = this.undos.indexOf(undo);
      if (i >= 0) this.undos.splice(i, 1);
    };
  }

  get size(): number {
    return this.undos.length;
  }

  /**
   * Run every undo, newest first. An undo that fails does not stop the others: its error is
   * collected and reported, since a half-unwound stack is what leaks mounts.
   */
  async unwind(onError: (label: string, error: unknown) => void = () => {}): Promise<void> {
    while (this.undos.length > 0) {
      const undo = this.undos.pop()!;
      try {
        await undo.run();
      } catch (error) {
        onError(undo.label, error);
      }
    }
  }
}
