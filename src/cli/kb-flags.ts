// The knowledge-base flags of the commands that read one (recommend, kb, bench, run).
export const READ_KB_HELP =
  'knowledge base: a file or a postgresql:// URL (default: $METALLMIX_KB, else your own knowledge base read together with the built-in MedMNIST starter)';
export const NO_BUILTIN_HELP =
  'without --kb: read only your own knowledge base (~/.local/share/metallmix/kb.sqlite), not the built-in runs';
