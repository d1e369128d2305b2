declare module 'virtual:ytsent-default-model' {
  export const DEFAULT_MODEL: { version: string; base: string; manifest: unknown };
}

interface ImportMetaEnv {
  readonly VITE_YTSENT_BACKEND?: string;
}
interface ImportMeta {
  readonly env: ImportMetaEnv;
}
