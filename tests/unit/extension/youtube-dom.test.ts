/**
 * The YouTube adapter's text extraction rules that need no DOM: emoji from image file names (as
 * YouTube draws them since 2025: `<img alt="" src=".../emoji_u1f602.png">`), and what an image
 * contributes to a comment's text. The e2e tests read the same markup in Chromium.
 */
import { describe, expect, it } from 'vitest';
import { emojiFromImageUrl, imageText } from '../../../extension/content/youtube-dom.js';

const img = (attrs: Record<string, string>) => ({ getAttribute: (name: string) => attrs[name] ?? null }) as unknown as HTMLImageElement;
const BASE = 'https://www.youtube.com/s/gaming/emoji/7ff574f2/';

describe('emoji from image file names', () => {
  it('reads single emoji, with the variation selector text-default ones need', () => {
    expect(emojiFromImageUrl(`${BASE}emoji_u1f602.png`)).toBe('😂');
    expect(emojiFromImageUrl(`${BASE}emoji_u1f621.svg`)).toBe('😡');
    expect(emojiFromImageUrl(`${BASE}emoji_u2764.png`)).toBe('❤️');
    expect(emojiFromImageUrl('https://yt3.ggpht.com/x/emoji_u263a.webp?w=24')).toBe('☺️');
  });

  it('reads sequences: ZWJ, flags, skin tones, keycaps', () => {
    expect(emojiFromImageUrl(`${BASE}emoji_u1f468_200d_1f373.png`)).toBe('👨‍🍳');
    expect(emojiFromImageUrl(`${BASE}emoji_u1f1e7_1f1f7.png`)).toBe('🇧🇷');
    expect(emojiFromImageUrl(`${BASE}emoji_u1f44d_1f3fd.png`)).toBe('👍🏽');
    expect(emojiFromImageUrl(`${BASE}emoji_u0031_20e3.png`)).toBe('1️⃣');
    expect(emojiFromImageUrl(`${BASE}emoji_u1f468_200d_2695.png`)).toBe('👨‍⚕️');
    expect(emojiFromImageUrl(`${BASE}emoji_u2764_200d_1f525.png`)).toBe('❤️‍🔥');
  });

  it('reads the Noto directory form, and nothing from other images', () => {
    expect(emojiFromImageUrl('https://fonts.gstatic.com/s/e/notoemoji/latest/1f525/72.png')).toBe('🔥');
    expect(emojiFromImageUrl('https://yt3.ggpht.com/ytc/AIdro_abc=s48-c-k')).toBeNull();
    expect(emojiFromImageUrl('data:,')).toBeNull();
    expect(emojiFromImageUrl(`${BASE}emoji_ud800.png`)).toBeNull(); // a lone surrogate is no emoji
    expect(emojiFromImageUrl(`${BASE}emoji_u110000.png`)).toBeNull();
  });
});

describe("an image's part of the comment text", () => {
  it('prefers alt, then the file name, then an emoji or :name: label', () => {
    expect(imageText(img({ alt: '🔥', src: `${BASE}emoji_u1f602.png` }))).toBe('🔥');
    expect(imageText(img({ alt: '', src: `${BASE}emoji_u1f602.png`, 'aria-label': 'face with tears of joy' }))).toBe('😂');
    expect(imageText(img({ alt: '', src: 'data:,', 'aria-label': '😍' }))).toBe('😍');
  });

  it('keeps channel emoji as one token, set apart', () => {
    expect(imageText(img({ alt: '', src: 'https://yt3.ggpht.com/abc', 'aria-label': ':hand-pink-waving:' }))).toBe(' :hand-pink-waving: ');
    expect(imageText(img({ alt: ':yt:', src: 'https://yt3.ggpht.com/abc' }))).toBe(' :yt: ');
  });

  it('ignores images that are not emoji', () => {
    expect(imageText(img({ alt: '', src: 'https://yt3.ggpht.com/abc', 'aria-label': 'Pinned by the creator' }))).toBe('');
    expect(imageText(img({ src: 'https://i.ytimg.com/vi/x/hqdefault.jpg' }))).toBe('');
  });
});
