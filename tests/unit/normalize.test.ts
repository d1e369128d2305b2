import { describe, expect, it } from 'vitest';
import { normalize, TokenKind } from '../../core/normalize.js';

const tokens = (text: string): string[] => {
  const n = normalize(text);
  return n.tokens.map((t, i) => (n.negated[i] ? `${t}_NEG` : t));
};

describe('normalize', () => {
  it('replaces URLs, handles, emails, numbers and video time stamps with fixed tokens', () => {
    expect(tokens('@Some_Handle see https://youtu.be/x?t=1 or youtube.com/watch, mail a.b@x.org, at 2:35 and 1:02:03, 42 likes')).toEqual([
      '<user>', 'see', '<url>', 'or', '<url>', ',', 'mail', '<email>', ',', 'at', '<time>', 'and', '<time>', ',', '<num>', 'likes',
    ]);
  });

  it("maps the scrubber's replacements to the same tokens as what they replaced", () => {
    expect(tokens('[email] [url] [phone] @user')).toEqual(['<email>', '<url>', '<num>', '<user>']);
  });

  it('keeps emojis (without skin tone or variation selectors) and classifies emoticons', () => {
    const n = normalize('love it 😍👍🏽 ❤️ :) :-( xD <3 </3 ;) :P');
    expect(n.tokens).toEqual(['love', 'it', '😍', '👍', '❤', '<emo_smile>', '<emo_sad>', '<emo_laugh>', '<emo_heart>', '<emo_brokenheart>', '<emo_wink>', '<emo_tongue>']);
    expect(n.kinds.slice(2, 5)).toEqual([TokenKind.Emoji, TokenKind.Emoji, TokenKind.Emoji]);
  });

  it('does not read emoticons inside words or lists', () => {
    expect(tokens('(item 8) xDrive')).toEqual(['item', '<num>', 'xdrive']);
  });

  it('lowercases, squashes elongations and flags them and capitals', () => {
    const n = normalize('SOOOO goooood!!!!');
    expect(n.tokens).toEqual(['soo', 'good', '!!']);
    expect(n.elongated).toBe(true);
    expect(n.allCaps).toBe(true);
    expect(normalize('ok I am fine').allCaps).toBe(false);
  });

  it('removes apostrophes so "don\'t", "don’t" and "dont" are one word', () => {
    expect(normalize("don't").tokens).toEqual(['dont']);
    expect(normalize('don’t').tokens).toEqual(['dont']);
    expect(normalize('dont').tokens).toEqual(['dont']);
  });

  it('marks a negation scope of three words that punctuation and "but" close', () => {
    expect(tokens("I don't like it at all")).toEqual(['i', 'dont', 'like_NEG', 'it_NEG', 'at_NEG', 'all']);
    expect(tokens('not good, great')).toEqual(['not', 'good_NEG', ',', 'great']);
    expect(tokens('not bad but awful')).toEqual(['not', 'bad_NEG', 'but', 'awful']);
  });

  it('applies Unicode NFKC (full-width and styled letters become plain)', () => {
    expect(normalize('ＧＲＥＡＴ ﬁne').tokens).toEqual(['great', 'fine']);
  });

  it('handles empty and whitespace-only input', () => {
    expect(normalize('').tokens).toEqual([]);
    expect(normalize('   \n').tokens).toEqual([]);
  });
});
