/**
 * Chromium with the built extension loaded unpacked (playwright-core + Debian's chromium), and
 * www.youtube.com mapped to the fixture pages so the real manifest match patterns apply.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type CDPSession, type Page, type Worker } from 'playwright-core';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const EXTENSION_DIR = join(REPO_ROOT, 'dist', 'extension');
const FIXTURES = join(REPO_ROOT, 'tests', 'fixtures', 'youtube');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface ExtensionBrowser {
  context: BrowserContext;
  extensionId: string;
  serviceWorker: Worker;
  /** An extension page (options) used to talk to the service worker as the popup/options do. */
  extensionPage: Page;
  /** Sends a message to the service worker and returns `data` (throws on `{ok: false}`). */
  background<T = unknown>(type: string, data?: unknown): Promise<T>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  extensionDir?: string;
  /** Extra Chromium flags (e.g. --enable-unsafe-webgpu). */
  args?: string[];
  /** Serve fixture pages for https://www.youtube.com (default true). */
  youtubeFixtures?: boolean;
}

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The same Chromium without the extension (benchmarks compare a page with and without it). */
export async function launchWithoutExtension(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'ytsent-chromium-plain-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  await routeYouTube(context);
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export async function launchWithExtension(options: LaunchOptions = {}): Promise<ExtensionBrowser> {
  const extensionDir = options.extensionDir ?? EXTENSION_DIR;
  const userDataDir = mkdtempSync(join(tmpdir(), 'ytsent-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreDefaultArgs: ['--disable-extensions'],
    args: [`--disable-extensions-except=${extensionDir}`, `--load-extension=${extensionDir}`, ...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
  if (options.youtubeFixtures !== false) await routeYouTube(context);
  const serviceWorker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 30_000 }));
  const extensionId = new URL(serviceWorker.url()).host;
  const extensionPage = await context.newPage();
  await extensionPage.goto(`chrome-extension://${extensionId}/options/options.html`);
  const background = async <T>(type: string, data?: unknown): Promise<T> => {
    const reply = (await extensionPage.evaluate((msg) => chrome.runtime.sendMessage(msg), { target: 'background', type, ...(data === undefined ? {} : { data }) })) as {
      ok: boolean;
      data?: T;
      error?: string;
    };
    if (!reply?.ok) throw new Error(`background ${type}: ${reply?.error ?? 'no reply'}`);
    return reply.data as T;
  };
  return {
    context,
    extensionId,
    serviceWorker,
    extensionPage,
    background,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

const TRANSPARENT_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

/** https://www.youtube.com/watch?v=ID → the fixture watch page; /__fixture/* → fixture assets. */
export async function routeYouTube(context: BrowserContext): Promise<void> {
  await context.route('https://www.youtube.com/**', async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname.startsWith('/__fixture/')) {
      const name = url.pathname.slice('/__fixture/'.length).replace(/[^a-z0-9._-]/gi, '');
      const type = name.endsWith('.js') ? 'text/javascript' : 'application/json';
      return route.fulfill({ status: 200, contentType: type, body: readFileSync(join(FIXTURES, name)) });
    }
    // Emoji images (a 1×1 transparent PNG: only their file names matter to the extension).
    if (url.pathname.startsWith('/s/gaming/emoji/')) return route.fulfill({ status: 200, contentType: 'image/png', body: TRANSPARENT_PNG });
    if (url.pathname === '/watch') return route.fulfill({ status: 200, contentType: 'text/html', body: readFileSync(join(FIXTURES, 'watch.html')) });
    if (url.pathname.startsWith('/shorts/')) return route.fulfill({ status: 200, contentType: 'text/html', body: readFileSync(join(FIXTURES, 'shorts.html')) });
    return route.fulfill({ status: 404, body: 'not in fixture' });
  });
}

/** Opens a fixture video and waits until its first page of comments is rendered. */
export async function openVideo(context: BrowserContext, videoId: string, query = '', kind: 'watch' | 'shorts' = 'watch'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(kind === 'shorts' ? `https://www.youtube.com/shorts/${videoId}${query}` : `https://www.youtube.com/watch?v=${videoId}${query}`);
  await page.waitForFunction(() => (window as unknown as { __ytFixture?: { ready: Promise<boolean> } }).__ytFixture?.ready);
  return page;
}

export interface BadgeInfo {
  /** The comment's text nodes (emoji images contribute nothing here). */
  text: string;
  /** negative | neutral | positive, or "unsupported" for a language the model does not support. */
  label: string;
  score: number;
  reply: boolean;
  lowConfidence: boolean;
  lang: string | null;
}

/** Badge states straight from the DOM hosts (the label lives in the host's data attributes). */
export async function badges(page: Page): Promise<BadgeInfo[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('[data-ytsent-badge]')).map((host) => {
      const comment = host.closest('ytd-comment-view-model')!;
      return {
        text: comment.querySelector('#content-text')!.textContent!.trim(),
        label: host.dataset.ytsentLabel!,
        score: Number(host.dataset.ytsentScore),
        reply: comment.closest('ytd-comment-replies-renderer') !== null,
        lowConfidence: host.dataset.ytsentLowConfidence !== undefined,
        lang: host.dataset.ytsentLang ?? null,
      };
    }),
  );
}

export interface SummaryState {
  negative: number;
  neutral: number;
  positive: number;
  /** negative + neutral + positive: the comments in supported languages. */
  total: number;
  otherLanguages: number;
  lowConfidence: number;
}

export async function summaryCounts(page: Page): Promise<SummaryState> {
  return page.evaluate(() => {
    const host = document.querySelector<HTMLElement>('[data-ytsent-summary]');
    if (!host) throw new Error('no summary bar');
    const n = (k: string) => Number(host.dataset[k]);
    return {
      negative: n('negative'),
      neutral: n('neutral'),
      positive: n('positive'),
      total: n('total'),
      otherLanguages: n('otherLanguages'),
      lowConfidence: n('lowConfidence'),
    };
  });
}

/** The content script's view of the page, as the popup gets it (texts as extracted, labels, languages). */
export async function videoSummary(
  b: ExtensionBrowser,
  urlPart: string,
): Promise<{
  video_id: string | null;
  comments: Array<{ text: string; label: string; score: number; reply: boolean; lang: string; supported: boolean; low_confidence: boolean }>;
}> {
  return b.extensionPage.evaluate(async (part) => {
    const tab = (await chrome.tabs.query({ url: 'https://www.youtube.com/*' })).find((t: chrome.tabs.Tab) => t.url?.includes(part));
    if (!tab?.id) throw new Error(`no tab for ${part}`);
    const reply = (await chrome.tabs.sendMessage(tab.id, { target: 'content', type: 'get-video-summary' })) as { ok: boolean; data: never };
    return reply.data;
  }, urlPart);
}

/**
 * What each badge shows on screen, read through its closed shadow root with CDP (DOM.getDocument
 * with pierce, CSS.getComputedStyleForNode): the visible text and a few computed styles of the
 * element that is not hidden.
 */
export async function badgeRendering(page: Page): Promise<Array<{ label: string; text: string; borderStyle: string; backgroundColor: string; whiteSpace: string }>> {
  interface DomNode {
    nodeId: number;
    nodeType: number;
    nodeName: string;
    nodeValue: string;
    attributes?: string[];
    children?: DomNode[];
    shadowRoots?: DomNode[];
  }
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = (await cdp.send('DOM.getDocument', { depth: -1, pierce: true })) as { root: DomNode };
    const attr = (n: DomNode, name: string): string | undefined => {
      const a = n.attributes ?? [];
      for (let i = 0; i < a.length; i += 2) if (a[i] === name) return a[i + 1];
      return undefined;
    };
    const text = (n: DomNode): string => (n.nodeType === 3 ? n.nodeValue : (n.children ?? []).map(text).join(''));
    const hosts: DomNode[] = [];
    const walk = (n: DomNode): void => {
      if (n.nodeType === 1 && attr(n, 'data-ytsent-badge') !== undefined) hosts.push(n);
      for (const c of n.children ?? []) walk(c);
      for (const c of n.shadowRoots ?? []) walk(c);
    };
    walk(root);
    const out = [];
    for (const host of hosts) {
      const shown = (host.shadowRoots?.[0]?.children ?? []).find((c) => c.nodeType === 1 && /\bbadge\b/.test(attr(c, 'class') ?? '') && attr(c, 'hidden') === undefined);
      if (!shown) throw new Error('a badge shows nothing');
      const { computedStyle } = (await cdp.send('CSS.getComputedStyleForNode', { nodeId: shown.nodeId })) as { computedStyle: Array<{ name: string; value: string }> };
      const style = (name: string) => computedStyle.find((p) => p.name === name)?.value ?? '';
      out.push({
        label: attr(host, 'data-ytsent-label') ?? '',
        text: text(shown),
        borderStyle: style('border-top-style'),
        backgroundColor: style('background-color'),
        // white-space is a shorthand in current Chromium; its wrapping half is text-wrap-mode.
        whiteSpace: style('white-space') || (style('text-wrap-mode') === 'nowrap' ? 'nowrap' : style('text-wrap-mode')),
      });
    }
    return out;
  } finally {
    await cdp.detach();
  }
}

/**
 * Clicks a control by its accessible name and role, even inside a closed shadow root: the
 * accessibility tree (CDP) sees through it, the DOM APIs of the page do not.
 */
export async function clickByAccessibleName(page: Page, role: string, name: string): Promise<void> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  try {
    const { root } = (await cdp.send('DOM.getDocument', { depth: 0 })) as { root: { nodeId: number } };
    const { nodes } = (await cdp.send('Accessibility.queryAXTree', { nodeId: root.nodeId, accessibleName: name, role })) as { nodes: Array<{ backendDOMNodeId?: number }> };
    const node = nodes.find((n) => n.backendDOMNodeId !== undefined);
    if (!node) throw new Error(`no ${role} named "${name}"`);
    await cdp.send('DOM.scrollIntoViewIfNeeded', { backendNodeId: node.backendDOMNodeId });
    const { model } = (await cdp.send('DOM.getBoxModel', { backendNodeId: node.backendDOMNodeId })) as { model: { content: number[] } };
    const [x1, y1, x2, , , y3] = model.content as [number, number, number, number, number, number];
    await page.mouse.click((x1 + x2) / 2, (y1 + y3) / 2);
  } finally {
    await cdp.detach();
  }
}

/** Accessible names of every node with `role`, read from the full accessibility tree. */
export async function accessibleNames(page: Page, role: string): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: Array<{ role?: { value: string }; name?: { value: string }; ignored?: boolean }> };
    return nodes.filter((n) => !n.ignored && n.role?.value === role && n.name?.value).map((n) => n.name!.value);
  } finally {
    await cdp.detach();
  }
}
