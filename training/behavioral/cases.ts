/**
 * A CheckList-style behavioural test suite for the comment sentiment model (Ribeiro et al., "Beyond
 * Accuracy: Behavioral Testing of NLP Models with CheckList", ACL 2020), written for YouTube comments.
 *
 * Three test types:
 * - `mft` (minimum functionality): one text and the label, or set of acceptable labels, it must get;
 * - `inv` (invariance): a group of texts that must all get the same label (a handle, a timestamp, a
 *   URL, a typo or a swapped name changes nothing about the sentiment);
 * - `dir` (directional expectation): a base text and a perturbed one; the probability of a named label
 *   must not go `up` (or `down`) by more than `tolerance` from base to perturbed.
 *
 * Hand-written cases are plain data below. Invariance groups over handles, timestamps, URLs, typos and
 * entities are expanded from small templates with a seeded generator (mulberry32), so the suite is
 * the same on every run and every machine. Pure TypeScript: no Node APIs.
 */
import { rng } from '../../core/random.js';
import type { Label } from '../../core/labels.js';

export const CAPABILITIES = ['emoji', 'negation', 'contrast', 'time', 'intensifiers', 'youtube_idioms', 'neutral', 'mentions', 'timestamps', 'urls', 'typos', 'entity_swap', 'hinglish'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const TEST_TYPES = ['mft', 'inv', 'dir'] as const;
export type TestType = (typeof TEST_TYPES)[number];

/**
 * Subsets reported on their own. `emoji_only`: every text of the case is emoji (no letters or
 * digits); `negated_positive`, `negated_negative`, `negated_neutral`: the three kinds of negation case.
 */
export type Tag = 'emoji_only' | 'emoji_with_text' | 'negated_positive' | 'negated_negative' | 'negated_neutral';

interface CaseBase {
  /** Unique, stable across runs: `<capability>-<nnn>`. */
  id: string;
  capability: Capability;
  tags?: readonly Tag[];
}

export interface MftCase extends CaseBase {
  type: 'mft';
  text: string;
  /** The label, or the labels any of which is acceptable. */
  expected: Label | readonly Label[];
}

export interface InvCase extends CaseBase {
  type: 'inv';
  /** Two or more texts that must all get the same label. */
  texts: readonly string[];
}

export interface DirCase extends CaseBase {
  type: 'dir';
  base: string;
  perturbed: string;
  /** The label whose probability is watched. */
  label: Label;
  /** `up`: P(label) must not go up by more than tolerance; `down`: must not go down by more. */
  must_not_go: 'up' | 'down';
  tolerance: number;
}

export type BehavioralCase = MftCase | InvCase | DirCase;

export const DEFAULT_TOLERANCE = 0.05;

/** Every text a case is scored on, in order. */
export function caseTexts(c: BehavioralCase): string[] {
  switch (c.type) {
    case 'mft':
      return [c.text];
    case 'inv':
      return [...c.texts];
    case 'dir':
      return [c.base, c.perturbed];
  }
}

/** The expected labels of an mft case as a list. */
export function expectedLabels(c: MftCase): readonly Label[] {
  return typeof c.expected === 'string' ? [c.expected] : c.expected;
}

/** True when a text is made only of emoji (pictographs, skin tones, ZWJ, variation selectors, flags, keycaps) and spaces. */
export function isEmojiOnly(text: string): boolean {
  const stripped = text.replace(/\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|[\u200d\ufe0f\ufe0e\u20e3\s]/gu, '');
  return stripped === '' && /\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(text);
}

// ---------------------------------------------------------------------------------------------
// Seeded helpers
// ---------------------------------------------------------------------------------------------

/** The project's one seeded PRNG (mulberry32), so generated cases are the same on every run. */
export const mulberry32 = rng;

/** `k` distinct items of `items`, drawn with `rand`. */
function pick<T>(rand: () => number, items: readonly T[], k: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < k && pool.length > 0) out.push(pool.splice(Math.floor(rand() * pool.length), 1)[0]!);
  return out;
}

/**
 * Swap two adjacent letters inside one word of at least 4 letters (never the first letter, never
 * the same letter twice), `n` times in `n` different words: "amazing" → "amzaing". Deterministic in `rand`.
 */
export function addTypos(text: string, n: number, rand: () => number): string {
  const words = text.split(' ');
  const candidates = words.map((w, i) => ({ w, i })).filter(({ w }) => /^[A-Za-z]{4,}$/.test(w.replace(/[.,!?]+$/, '')));
  const out = [...words];
  for (const { i } of pick(rand, candidates, n)) {
    const word = out[i]!;
    const core = word.replace(/[.,!?]+$/, '');
    const tail = word.slice(core.length);
    // Positions j where core[j] and core[j + 1] differ, with j ≥ 1 and j + 1 < core.length.
    const positions: number[] = [];
    for (let j = 1; j + 1 < core.length; j++) if (core[j]!.toLowerCase() !== core[j + 1]!.toLowerCase()) positions.push(j);
    if (positions.length === 0) continue;
    const j = positions[Math.floor(rand() * positions.length)]!;
    out[i] = core.slice(0, j) + core[j + 1] + core[j] + core.slice(j + 2) + tail;
  }
  return out.join(' ');
}

// ---------------------------------------------------------------------------------------------
// Case builders
// ---------------------------------------------------------------------------------------------

const ALL: BehavioralCase[] = [];
const counters = new Map<Capability, number>();

function nextId(capability: Capability): string {
  const n = (counters.get(capability) ?? 0) + 1;
  counters.set(capability, n);
  return `${capability}-${String(n).padStart(3, '0')}`;
}

function mft(capability: Capability, rows: ReadonlyArray<readonly [string, Label | readonly Label[]]>, tags?: readonly Tag[]): void {
  for (const [text, expected] of rows) {
    ALL.push({ id: nextId(capability), capability, type: 'mft', text, expected, ...(tags ? { tags } : {}) });
  }
}

function inv(capability: Capability, groups: ReadonlyArray<readonly string[]>, tags?: readonly Tag[]): void {
  for (const texts of groups) ALL.push({ id: nextId(capability), capability, type: 'inv', texts, ...(tags ? { tags } : {}) });
}

/**
 * Directional cases: `{ label: 'positive', must_not_go: 'up' }` → P(positive) of the perturbed text
 * must not exceed P(positive) of the base by more than the tolerance ("must not move toward
 * positive"); `must_not_go: 'down'` → it must not fall by more than the tolerance.
 */
function dir(capability: Capability, rule: { label: Label; must_not_go: 'up' | 'down' }, pairs: ReadonlyArray<readonly [string, string]>, tags?: readonly Tag[]): void {
  for (const [base, perturbed] of pairs) {
    ALL.push({ id: nextId(capability), capability, type: 'dir', base, perturbed, ...rule, tolerance: DEFAULT_TOLERANCE, ...(tags ? { tags } : {}) });
  }
}

const POS: Label = 'positive';
const NEG: Label = 'negative';
const NEU: Label = 'neutral';
const NOT_NEG: readonly Label[] = ['neutral', 'positive'];
const NOT_POS: readonly Label[] = ['negative', 'neutral'];

// ---------------------------------------------------------------------------------------------
// emoji
// ---------------------------------------------------------------------------------------------

mft(
  'emoji',
  [
    ['👍', POS],
    ['👍👍', POS],
    ['❤️', POS],
    ['❤', POS],
    ['❤️❤️❤️', POS],
    ['😂😂😂', NOT_NEG],
    ['🤣🤣', NOT_NEG],
    ['😡', NEG],
    ['🤬', NEG],
    ['😠😠', NEG],
    ['🔥🔥', POS],
    ['🔥', POS],
    ['💀', NOT_NEG],
    ['💀💀💀', NOT_NEG],
    ['🙏', NOT_NEG],
    ['👎', NEG],
    ['👎👎👎', NEG],
    ['🤮', NEG],
    ['🤢🤮', NEG],
    ['😢', NOT_POS],
    ['😍', POS],
    ['🥰', POS],
    ['💯', POS],
    ['👏👏👏', POS],
    ['🙌', POS],
    ['🤩', POS],
    ['💕💕', POS],
    ['🫶', POS],
    ['💩', NEG],
    ['🙄', NEG],
    ['🤡', NEG],
    ['🤦', NEG],
    ['😴', NOT_POS],
    ['🤔', NOT_POS],
    ['👀', NOT_NEG],
    // Skin tones and ZWJ sequences.
    ['👍🏽', POS],
    ['👍🏿', POS],
    ['👏🏻👏🏻', POS],
    ['🙏🏾', NOT_NEG],
    ['🫶🏼', POS],
    ['👎🏼', NEG],
    ['❤️‍🔥', POS],
    ['❤️‍🔥❤️‍🔥', POS],
    ['❤️‍🩹', NOT_NEG],
    ['🤦‍♂️', NEG],
    ['🤦🏻‍♀️', NEG],
    ['🤷‍♂️', NOT_POS],
    ['🙇‍♂️', NOT_NEG],
    ['👨‍🍳💋', POS],
  ],
  ['emoji_only'],
);

mft(
  'emoji',
  [
    ['great video 👍', POS],
    ['love this song ❤️❤️', POS],
    ['thank you for this tutorial 🙏', POS],
    ['finally someone said it 👏👏', POS],
    ['this edit is insane 🔥🔥🔥', POS],
    ['the way he said that 😂😂', NOT_NEG],
    ['this is trash 🤮', NEG],
    ['worst ad placement ever 😡', NEG],
    ['clickbait title 👎', NEG],
    ['so boring 😴', NEG],
    ['bro really thought this was funny 🙄', NEG],
    ['my heart 🥺❤️', POS],
    ['RIP to the old intro 😢', NOT_POS],
  ],
  ['emoji_with_text'],
);

inv(
  'emoji',
  [
    ['👍', '👍🏻', '👍🏽', '👍🏿'],
    ['❤️', '❤', '❤️❤️'],
    ['🔥', '🔥🔥', '🔥🔥🔥'],
    ['👎', '👎🏼', '👎🏾'],
    ['🙏', '🙏🏻', '🙏🏿'],
  ],
  ['emoji_only'],
);

// Emoji that agree with the text must not pull the prediction away from it.
dir(
  'emoji',
  { label: POS, must_not_go: 'down' },
  [
    ['nice video', 'nice video 🔥🔥'],
    ['thanks for the help', 'thanks for the help 🙏'],
    ['this song is so good', 'this song is so good 😭❤️'],
    ['you explained it perfectly', 'you explained it perfectly 👏👏'],
  ],
  ['emoji_with_text'],
);
dir(
  'emoji',
  { label: NEG, must_not_go: 'down' },
  [
    ['the audio is awful', 'the audio is awful 🤮'],
    ['another sponsor segment, seriously', 'another sponsor segment, seriously 🙄'],
    ['this take is so dumb', 'this take is so dumb 🤡'],
    ['worst update ever', 'worst update ever 👎👎'],
  ],
  ['emoji_with_text'],
);

// ---------------------------------------------------------------------------------------------
// negation
// ---------------------------------------------------------------------------------------------

mft(
  'negation',
  [
    ['This video was not good', NEG],
    ["not gonna lie, this wasn't funny at all", NEG],
    ["I didn't enjoy this one", NEG],
    ["I don't like the new editing style", NEG],
    ['Not worth the 20 minutes', NEG],
    ["This wasn't helpful at all", NEG],
    ['Honestly not a fan of the new intro', NEG],
    ["The ending didn't make any sense", NEG],
    ['Not impressed tbh', NEG],
    ["I don't love this new format", NEG],
    ['This is not what I clicked for', NEG],
    ["The recipe didn't turn out good at all", NEG],
    ["This doesn't work on Windows 11", NOT_POS],
    ["Sorry but this isn't entertaining anymore", NEG],
    ["I can't recommend this tutorial, it skips half the steps", NEG],
    ['Not the best video you have made', NOT_POS],
    ['No offense but nobody finds this funny', NEG],
  ],
  ['negated_positive'],
);

mft(
  'negation',
  [
    ["I wasn't disappointed", NOT_NEG],
    ['Not bad for a first video', NOT_NEG],
    ['Not bad at all', NOT_NEG],
    ["This tutorial wasn't boring at all", NOT_NEG],
    ["The 3 hour length didn't bother me one bit", NOT_NEG],
    ['I never get tired of this song', NOT_NEG],
    ["Can't stop listening to this", NOT_NEG],
    ['No complaints, works perfectly', NOT_NEG],
    ['Nothing wrong with this take honestly', NOT_NEG],
    ["I don't hate it", NOT_NEG],
    ['Never a dull moment on this channel', NOT_NEG],
    ['Not a single boring second', NOT_NEG],
    ["You guys don't disappoint", NOT_NEG],
    ["The ads didn't ruin it this time", NOT_NEG],
    ["It's not as hard as it looks, thanks to you", NOT_NEG],
  ],
  ['negated_negative'],
);

mft(
  'negation',
  [
    ["I don't own a PS5", NEU],
    ["I haven't watched part 1 yet", NEU],
    ["she doesn't live in Paris anymore", NEU],
    ["I don't have Netflix", NEU],
    ["He didn't go to the concert", NEU],
    ["The store doesn't open until 10", NEU],
    ["I don't use Linux", NEU],
    ["I haven't tried the recipe yet", NEU],
    ["My phone doesn't have a headphone jack", NEU],
    ["I don't speak Spanish", NEU],
    ["I'm not from the US", NEU],
    ["I wasn't born when this came out", NEU],
    ["He's not the drummer, that's the bassist", NEU],
    ["It's not a Tesla, it's a Polestar", NEU],
    ["The game doesn't come out until March", NEU],
    ["I don't drink coffee", NEU],
    ["I haven't been to Japan", NEU],
    ["My cat doesn't eat dry food", NEU],
    ["They didn't film this in London, it was Manchester", NEU],
    ["I don't play ranked", NEU],
    ["We don't have school on Fridays", NEU],
    ["This isn't the first part, you need to watch episode 2 first", NEU],
    ["I didn't read the book before watching", NEU],
    ['She never uploaded the second half', NEU],
  ],
  ['negated_neutral'],
);

// Negation words that do not negate what follows ("can't believe how good", "can't stop watching",
// "no doubt the best"), and the complaints and litotes built on them ("doesn't work", "not too bad").
mft('negation', [
  ["I can't believe how good this is", POS],
  ["I can't believe how bad this edit is", NEG],
  ["Can't believe this only has 2k views, the quality is insane", NOT_NEG],
  ["I literally can't stop watching this", POS],
  ["Can't get enough of this song", POS],
  ["Can't thank you enough for this tutorial", POS],
  ['No doubt the best channel on YouTube', POS],
  ["Couldn't agree more with this", NOT_NEG],
  ['Second to none, as always', POS],
  ['I cannot wait for part 2', POS],
  ["Doesn't work for me", NEG],
  ["Didn't work, I still get the same error", NEG],
  ['This makes no sense', NEG],
  ["Honestly can't stand this guy", NEG],
  ['Not too bad for a beginner', NOT_NEG],
  ['Not gonna lie, this is pretty good', POS],
]);

// ---------------------------------------------------------------------------------------------
// contrast
// ---------------------------------------------------------------------------------------------

mft('contrast', [
  ['I used to love your videos but this one is just lazy', NEG],
  ['The start was slow but the ending was amazing', POS],
  ['Great visuals but the story makes zero sense', NEG],
  ["Nice editing, but the audio is so bad I couldn't finish it", NEG],
  ['The thumbnail is clickbait but the video itself is actually really good', POS],
  ['I thought this would be boring but I watched the whole thing', POS],
  ["It's a cool idea, however the execution is terrible", NEG],
  ['The first half was useless but the second half saved me hours', POS],
  ['The mic was bad but the advice was gold', POS],
  ['Although the intro is way too long, this is the best explanation on YouTube', POS],
  ['Even though I disagree with you, this was a really fair video', POS],
  ['He tried hard but it was painful to watch', NEG],
  ['The cooking looked great but the recipe failed completely for me', NEG],
  ['Honestly expected nothing, but this was hilarious', POS],
  ['I was skeptical at first but this fixed my wifi issue', POS],
  ["Everyone hyped this up but it's so mid", NEG],
  ['The product looked promising but broke after two days', NEG],
  ['The camera work is bad, but the content makes up for it', POS],
  ['I came for the memes but stayed for the actual science', POS],
  ['Great channel but this video is full of wrong info', NEG],
  ['It started strong but the last 10 minutes dragged', NEG],
  ['His voice is annoying at first but you get used to it and the info is solid', POS],
  ["Nice try but this hack doesn't work at all", NEG],
  ['Not my kind of music but I respect the talent', NOT_NEG],
  ['I love this channel, but this sponsor was a scam', NEG],
  ['Terrible thumbnail, brilliant video', POS],
]);

// ---------------------------------------------------------------------------------------------
// time
// ---------------------------------------------------------------------------------------------

mft('time', [
  ['this channel used to be good', NOT_POS],
  ["this channel used to be good, now it's just ads", NEG],
  ['Remember when this channel actually made good content?', NEG],
  ['His old videos were so much better', NEG],
  ['I miss the old intro', NOT_POS],
  ['Back in 2016 this was the best channel on YouTube', NOT_POS],
  ['This series used to be my favourite', NOT_POS],
  ["The early episodes were funny, now it's just cringe", NEG],
  ['Quality has gone downhill since they hit 1M subs', NEG],
  ['I was a fan until the last few videos', NEG],
  ["This used to be a gaming channel, now it's just drama", NEG],
  ['Used to watch every upload, unsubscribed last year', NEG],
  ['The old version of this app was better', NEG],
  ['Not as good as it used to be', NEG],
  ['What happened to this channel? It was great in 2019', NOT_POS],
  ["It's gotten better every year, this is the best one yet", POS],
  ["I used to hate this song, now I can't stop listening", POS],
  ["At first I didn't like him but now he's my favorite creator", POS],
  ['Used to be scared of coding, your videos changed that', POS],
  ["Still watching this in 2025 and it's still hilarious", POS],
]);

// ---------------------------------------------------------------------------------------------
// intensifiers
// ---------------------------------------------------------------------------------------------

// Intensifying a negative comment must not move it toward positive.
dir('intensifiers', { label: POS, must_not_go: 'up' }, [
  ['annoying intro', 'super annoying intro'],
  ['bad audio', 'really bad audio'],
  ['boring video', 'extremely boring video'],
  ['this is cringe', 'this is so cringe'],
  ['the ads are annoying', 'the ads are incredibly annoying'],
  ['disappointing ending', 'very disappointing ending'],
  ['that was painful to watch', 'that was genuinely painful to watch'],
  ['the editing is lazy', 'the editing is insanely lazy'],
  ['the sponsor segment is too long', 'the sponsor segment is way too long'],
  ['I hate this update', 'I really hate this update'],
  ['the game runs terribly', 'the game runs so terribly'],
  ['this take is dumb', 'this take is crazy dumb'],
  ['terrible', 'terrible!!!'],
  ['the servers are a mess', 'the servers are a total mess'],
]);

// Intensifying a positive comment must not move it toward negative.
dir('intensifiers', { label: NEG, must_not_go: 'up' }, [
  ['good', 'really good'],
  ['good video', 'really good video'],
  ['nice tutorial', 'super nice tutorial'],
  ['this is helpful', 'this is incredibly helpful'],
  ['funny', 'so funny'],
  ['great explanation', 'truly great explanation'],
  ['love this song', 'absolutely love this song'],
  ['the ending was beautiful', 'the ending was insanely beautiful'],
  ['the animation is clean', 'the animation is crazy clean'],
  ['your voice is relaxing', 'your voice is extremely relaxing'],
  ['this is wholesome', 'this is so wholesome'],
  ['amazing', 'amazing!!!'],
  ["I'm impressed", "I'm seriously impressed"],
  ['that was epic', 'that was ridiculously epic'],
]);

// ---------------------------------------------------------------------------------------------
// youtube_idioms
// ---------------------------------------------------------------------------------------------

mft('youtube_idioms', [
  ['this channel is so underrated', POS],
  ['haters gonna hate, this slaps', POS],
  ["who's here in 2025?", NEU],
  ['first', NEU],
  ['First!', NEU],
  ['ratio', NOT_POS],
  ['W video', POS],
  ['big W', POS],
  ['W editor', POS],
  ['L take', NEG],
  ['massive L', NEG],
  ['no cap this is fire', POS],
  ['this aged like milk', NEG],
  ['this aged like fine wine', POS],
  ['underrated af', POS],
  ['bro cooked', POS],
  ['he cooked with this one', POS],
  ['let him cook', POS],
  ['bro fell off', NEG],
  ["he's washed", NEG],
  ['this is mid', NEG],
  ['goated channel', POS],
  ['this is peak', POS],
  ['lowkey a banger', POS],
  ['absolute banger', POS],
  ['this hits different at 3am', POS],
  ['not me watching this for the 10th time', POS],
  ["I'm not crying, you're crying", POS],
  ['this is criminally underrated', POS],
  ['this guy is insane at this game', POS],
  ['that drop was sick', POS],
  ['the editor deserves a raise', POS],
  ['instant classic', POS],
  ['touch grass', NEG],
  ['skill issue', NEG],
  ['cringe', NEG],
  ['clickbait', NEG],
  ['ate and left no crumbs', POS],
  ['10/10 would watch again', POS],
  ['instantly subscribed', POS],
  ['unsubscribed', NEG],
  ['the algorithm finally did something right', POS],
  ['Like if you are watching in 2025', NEU],
  ['POV: you came here from TikTok', NEU],
  ['Thanks for not putting the sponsor in the middle', POS],
]);

// ---------------------------------------------------------------------------------------------
// neutral
// ---------------------------------------------------------------------------------------------

mft('neutral', [
  ["what's the song at 2:13?", NEU],
  ['can you do a video on the James Webb telescope', NEU],
  ['part 2 when?', NEU],
  ['What camera do you use?', NEU],
  ["What's the name of the font in the thumbnail?", NEU],
  ['Which keyboard is that?', NEU],
  ['Is this available on Spotify?', NEU],
  ['Anyone know the game at 5:40?', NEU],
  ['How long did this take to film?', NEU],
  ["What's the ratio of flour to water?", NEU],
  ['Does this work on a Mac?', NEU],
  ['Can you link the paper you mentioned?', NEU],
  ['Where was this filmed?', NEU],
  ['Is the recipe in the description?', NEU],
  ['Do a review of the Pixel 9 next', NEU],
  ['Please do a tutorial on Blender geometry nodes', NEU],
  ['Can you make a video about how trains are scheduled?', NEU],
  ['The song is Clair de Lune by Debussy', NEU],
  ['This was filmed in Iceland', NEU],
  ['The video is 42 minutes long', NEU],
  ["He's using a Fender Stratocaster", NEU],
  ['The recipe uses 200g of butter', NEU],
  ['The map is from Halo 3', NEU],
  ['Episode 4 comes out next Friday', NEU],
  ['Timestamps: 0:00 intro 2:30 setup 7:45 results', NEU],
  ['5:12', NEU],
  ['14:03 the part about taxes', NEU],
  ['Subtitles are available in Spanish', NEU],
  ['Watching from Brazil', NEU],
  ["I'm on episode 3 now", NEU],
  ['Does anyone have the link to the original video?', NEU],
  ['Is this the same guy from the cooking channel?', NEU],
  ['what mouse sensitivity do you use', NEU],
  ['Which city is this?', NEU],
  ["Who's the artist of the background music?", NEU],
  ['The livestream starts at 8pm UTC', NEU],
]);

// ---------------------------------------------------------------------------------------------
// hinglish: romanized Hindi, how a large share of India's comments are written
// ---------------------------------------------------------------------------------------------

// Everyday praise, complaints and questions under videos, in the spellings people use; many carry
// their sentiment in words no lexicon lists ("dil jeet liya", "paisa wasool", "time waste").
mft('hinglish', [
  ['Bhai kya video banaya hai, maza aa gaya', POS],
  ['bahut badhiya explanation sir, thank you', POS],
  ['Ekdum mast song hai yaar', POS],
  ['Aapki videos se bahut kuch seekhne ko milta hai', POS],
  ['sir aap great ho, dil jeet liya', POS],
  ['kya baat hai, lajawab performance', POS],
  ['Bohot acchi video thi bhai, keep it up', POS],
  ['Gajab ka content hai, subscribe kar diya', POS],
  ['ye gaana sun ke sukoon milta hai', POS],
  ['Paisa wasool movie hai, zaroor dekho', POS],
  ['bakwas video, time waste', NEG],
  ['Bhai ye kya ghatiya editing hai', NEG],
  ['Sabse bekaar episode tha ye', NEG],
  ['itna boring video, aadha dekh ke band kar diya', NEG],
  ['Clickbait hai bhai, title mein kuch aur video mein kuch aur', NEG],
  ['Audio itni kharab hai ki kuch samajh nahi aaya', NEG],
  ['bilkul faltu advice hai, koi mat follow karna', NEG],
  ['Sharam aani chahiye aise jhooth phailate ho', NEG],
  ['Ye kaunsa camera use karte ho bhai?', NOT_NEG],
  ['Part 2 kab aayega?', NEU],
  ['Ye song ka naam kya hai?', NEU],
  ['Main Pune se dekh raha hoon', NEU],
  ['Kal ka match kitne baje start hoga?', NEU],
  ['Iska link description mein daal do', NEU],
]);

// Spellings vary more than in any other supported language; the label must not.
inv('hinglish', [
  ['bahut accha video', 'bohot acha video', 'bhot achha video'],
  ['ekdum bakwas hai', 'ekdam bakvas hai', 'ekdum bakwaas hai'],
  ['bahut pyaara gaana', 'bohot pyara gana', 'bahut pyaara gana'],
  ['zabardast performance', 'jabardast performance', 'zabardust performance'],
  ['bahut ghatiya video', 'bohot ghatia video', 'bht ghatiya video'],
]);

// "nahi" negates the word before it: negating praise must not raise P(positive).
dir('hinglish', { label: POS, must_not_go: 'up' }, [
  ['video accha hai', 'video accha nahi hai'],
  ['ye gaana pasand aaya', 'ye gaana pasand nahi aaya'],
  ['editing badhiya thi', 'editing badhiya nahi thi'],
]);
// Intensifying a complaint must not move it toward positive.
dir('hinglish', { label: POS, must_not_go: 'up' }, [
  ['boring video', 'bahut boring video'],
  ['bekaar ending', 'ekdum bekaar ending'],
]);

// ---------------------------------------------------------------------------------------------
// Generated invariance groups
// ---------------------------------------------------------------------------------------------

/** Clearly polar comments, the bases of the mention, URL and typo groups. */
const POLAR: readonly string[] = [
  "This is the best tutorial I've found on this topic",
  'Absolutely loved this video',
  'Your editing keeps getting better and better',
  'This made my day, thank you',
  'Such a wholesome channel',
  'Great explanation, I finally understand it',
  'This song is a masterpiece',
  'Thank you so much, this fixed my problem',
  'You deserve way more subscribers',
  'Amazing work as always',
  'I love how calm and clear your voice is',
  'Best video on YouTube right now',
  "This is the worst video you've ever made",
  "Terrible advice, please don't follow this",
  "The audio is awful, I couldn't finish it",
  'What a waste of time',
  'This is pure clickbait and you know it',
  'So boring I fell asleep halfway',
  'Honestly this was painful to watch',
  'Awful take, completely wrong',
  'Stop uploading this garbage',
  'I hate the new format so much',
  'Way too many ads, totally unwatchable',
  'This product is a scam, do not buy it',
];

/** Neutral comments: invariance of a neutral label matters as much for handles and timestamps. */
const NEUTRAL_BASES: readonly string[] = ['What microphone do you use?', 'Which editing software is this?', 'Is there a part 2 coming?', 'Where can I buy that lamp?'];

const HANDLES = ['@SomeHandle', '@user-xy9k2', '@user-mq7z4ab1c', '@techguy_99', '@MarquesBrownlee', '@gaming.with.leo', '@Sarah-Kim', '@TheRealDanny', '@cooking_with_nana', '@k1ngz'];

{
  const rand = mulberry32(0x6d656e74); // "ment"
  const bases = [...POLAR, ...NEUTRAL_BASES];
  inv(
    'mentions',
    bases.map((base) => [base, ...pick(rand, HANDLES, 2).map((h) => `${h} ${base}`)]),
  );
}

/** Templates with a `{at}` slot: "" in the base, " at 3:45" in the variants. */
const TIMESTAMP_TEMPLATES: readonly string[] = [
  'The explanation{at} was so clear, thank you',
  'The drop{at} gave me chills',
  'The joke{at} had me dying',
  'The transition{at} is so smooth',
  'The shot{at} is absolutely beautiful',
  'The animation{at} is incredible',
  'Your reaction{at} is priceless',
  'The audio{at} is so bad it hurts',
  'The mistake{at} ruins the whole tutorial',
  'The ad{at} is so annoying',
  'The advice{at} is just wrong',
  'The jump cut{at} is so lazy',
  'That rant{at} was cringe',
  'The music{at} is way too loud',
  'The camera{at} is so shaky I felt sick',
  'What is the song{at}?',
  'Which city is that{at}?',
  'What brand is the knife{at}?',
  'Who is the guy{at}?',
];
const STAMPS = ['0:47', '3:45', '12:01', '1:02:33', '7:19', '21:58', '4:05'];

{
  const rand = mulberry32(0x74696d65); // "time"
  inv(
    'timestamps',
    TIMESTAMP_TEMPLATES.map((t) => {
      const [a, b] = pick(rand, STAMPS, 2);
      const base = t.replace('{at}', '');
      return [base, t.replace('{at}', ` at ${a}`), `${b} ${base}`];
    }),
  );
}

const URLS = [
  'https://youtu.be/dQw4w9WgXcQ',
  'https://www.youtube.com/watch?v=jNQXAC9IVRw',
  'https://en.wikipedia.org/wiki/Photosynthesis',
  'https://www.amazon.com/dp/B08N5WRWNW',
  'https://github.com/torvalds/linux',
  'https://www.reddit.com/r/videos/comments/abc123/',
  'www.example.com/review',
];

{
  const rand = mulberry32(0x75726c73); // "urls"
  inv(
    'urls',
    POLAR.map((base, i) => {
      const [u1, u2] = pick(rand, URLS, 2);
      // As people paste them: after a space, on a line of its own, after a lead-in.
      return i % 2 === 0 ? [base, `${base} ${u1}`, `${base}\n${u2}`] : [base, `${base}\n${u1}`, `${base}. Source: ${u2}`];
    }),
  );
}

{
  const rand = mulberry32(0x7479706f); // "typo"
  inv(
    'typos',
    POLAR.map((base) => [base, addTypos(base, 1, rand), addTypos(base, 2, rand)]),
  );
}

// Entity swaps: the same comment about different people, places, products and channels.
const PEOPLE = ['Emma', 'Priya', 'Oluwaseun', 'Mohammed', 'Hiroshi', 'Carlos', 'Anna', 'Jamal', 'Wei', 'Sven', 'Fatima', 'Diego'];
const PLACES = ['Paris', 'Lagos', 'Jakarta', 'Mumbai', 'Warsaw', 'Lima', 'Seoul', 'Cairo', 'Toronto', 'Nairobi', 'Istanbul', 'Manila'];
const PRODUCTS = ['iPhone 15', 'Galaxy S24', 'Pixel 8', 'PS5', 'Xbox Series X', 'Steam Deck', 'MacBook Air', 'Switch OLED'];
const CHANNELS = ['MKBHD', 'Veritasium', 'Kurzgesagt', 'Linus Tech Tips', 'Mark Rober', 'Tom Scott', 'Binging with Babish', 'Vsauce'];

const ENTITY_TEMPLATES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['I visited {x} last week', PLACES],
  ['Greetings from {x}', PLACES],
  ['{x} is the best guest you have ever had on the podcast', PEOPLE],
  ['{x} explained it way better than the teacher', PEOPLE],
  ['{x} was so rude in this episode', PEOPLE],
  ['{x} is the worst host this show has ever had', PEOPLE],
  ['Does {x} have a channel?', PEOPLE],
  ['The food in {x} looks amazing', PLACES],
  ['I moved to {x} last year and I hate the traffic', PLACES],
  ['Is this in {x}?', PLACES],
  ['The {x} battery life is terrible', PRODUCTS],
  ['I love my {x}, best purchase this year', PRODUCTS],
  ['Does this work on the {x}?', PRODUCTS],
  ['My {x} broke after a week, never again', PRODUCTS],
  ['This is better than anything {x} has made', CHANNELS],
  ['Came here from {x}', CHANNELS],
  ['{x} covered this a month ago and got the facts wrong', CHANNELS],
  ['A collab with {x} would be amazing', CHANNELS],
  ['Happy birthday {x}, you deserve the best', PEOPLE],
  ['{x} just scammed their own fans', PEOPLE],
];

{
  const rand = mulberry32(0x656e7469); // "enti"
  inv(
    'entity_swap',
    ENTITY_TEMPLATES.map(([t, pool]) => pick(rand, pool, 3).map((x) => t.replace('{x}', x))),
  );
}

// ---------------------------------------------------------------------------------------------

/** The suite, in a fixed order. */
export const CASES: readonly BehavioralCase[] = ALL;
