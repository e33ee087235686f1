// What reading an image from somewhere takes and gives (source.ts and the readers it picks).

export interface SourceOptions {
  /** S3 endpoint for s3:// sources (default AWS). */
  readonly endpoint?: string;
  readonly region?: string;
  readonly caFile?: string;
  readonly signal?: AbortSignal;
}

export interface OpenedSource {
  /** A local directory holding manifest.json and the artifacts. */
  readonly dir: string;
  /** Remove what was fetched (no-op for local directories). */
  close(): Promise<void>;
}
