declare module 'virtual:ytsent-default-model' {
  export const DEFAULT_MODEL: { version: string; base: string; manifest: unknown };
}

declare module 'virtual:ytsent-release-keys' {
  export const RELEASE_KEYS: ReadonlyArray<{ key_id: string; public_key: string; comment?: string }>;
}

interface ImportMetaEnv {
  readonly VITE_YTSENT_BACKEND?: string;
}
interface ImportMeta {
  readonly env: ImportMetaEnv;
}
