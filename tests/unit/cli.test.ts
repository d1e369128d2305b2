/** The score and evaluate CLIs, run as a user runs them (a child process), on good and bad input. */
import { execFile } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelIndex } from '../../core/labels.js';
import { evaluatePredictions } from '../../core/metrics.js';
import { createNodeScorer, defaultModelDir, REPO_ROOT } from '../../node-runtime/bundle.js';

const run = promisify(execFile);

async function cli(script: 'score' | 'evaluate', args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // npm runs scripts in the package root and passes the caller's folder as INIT_CWD.
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'cli', `${script}.ts`), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, INIT_CWD: undefined, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let tmp: string;
const file = (name: string, content: string): string => {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
};

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ytsent-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const newest = (): string => (JSON.parse(readFileSync(join(defaultModelDir(), 'manifest.json'), 'utf8')) as { version: string }).version;

describe('npm run score', () => {
  it('scores texts given as arguments', async () => {
    const { code, stdout } = await cli('score', ['I love this so much!', 'This is terrible, worst video ever']);
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ text: 'I love this so much!', label: 'positive', model_version: newest() });
    expect(lines[1].label).toBe('negative');
    for (const l of lines) {
      expect(Object.keys(l.probs)).toEqual(['negative', 'neutral', 'positive']);
      expect(l).toMatchObject({ supported: true, low_confidence: false });
      expect(typeof l.lang).toBe('string');
      expect(l.score).toBe(Math.max(...(Object.values(l.probs) as number[])));
    }
  });

  it('scores a JSONL file and a CSV file, passing other fields through', async () => {
    const jsonl = file('c.jsonl', '{"id": 1, "text": "great tutorial"}\n\n{"id": 2, "text": "meh"}\n');
    const csv = file('c.csv', 'id,text\n1,"great tutorial"\n2,"has a comma, and ""quotes"""\n');
    const a = (await cli('score', ['--file', jsonl])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const b = (await cli('score', ['--file', csv])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(a.map((r) => r.id)).toEqual([1, 2]);
    expect(b.map((r) => r.text)).toEqual(['great tutorial', 'has a comma, and "quotes"']);
    expect(a[0].probs).toEqual(b[0].probs);
  });

  it.each([
    [['--file', '/nonexistent/x.jsonl'], /score: \/nonexistent\/x.jsonl: file not found/],
    [['--file', 'BAD_JSON'], /bad.jsonl:2: invalid JSON/],
    [['--file', 'EMPTY_TEXT'], /empty.jsonl:1: empty text/],
    [['--file', 'NO_TEXT'], /notext.csv:2: missing field "text"/],
    [['--file', 'WRONG_EXT'], /unsupported file type ".txt"/],
    [[], /usage: npm run score/],
  ])('fails clearly on bad input %j', async (args, message) => {
    const paths: Record<string, string> = {
      BAD_JSON: file('bad.jsonl', '{"text": "ok"}\n{"text": oops}\n'),
      EMPTY_TEXT: file('empty.jsonl', '{"text": "   "}\n'),
      NO_TEXT: file('notext.csv', 'body\nhello\n'),
      WRONG_EXT: file('x.txt', 'hello'),
    };
    const { code, stderr, stdout } = await cli(
      'score',
      args.map((a) => paths[a] ?? a),
    );
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
    expect(stdout).toBe('');
  });
});

describe('npm run score, languages', () => {
  it.skipIf(newest() === '1.0.0')('says which language a text is in and whether it is supported', async () => {
    // The CLI's plumbing of lang/supported; how well short comments are identified: langid.test.ts, bench.
    const { code, stdout } = await cli('score', ['Das ist wirklich ein tolles Video, danke dafür', 'Лучший канал, очень нравится']);
    expect(code).toBe(0);
    const [de, ru] = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(de).toMatchObject({ lang: 'de', supported: true });
    expect(ru).toMatchObject({ lang: 'ru', supported: false });
  });
});

describe('npm run evaluate', () => {
  it.skipIf(newest() === '1.0.0')('reports per-language metrics when records carry a lang field', async () => {
    const rows = readFileSync(join(REPO_ROOT, 'tests/fixtures/texts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { lang?: string });
    const path = file(
      'umsab.jsonl',
      rows
        .filter((r) => r.lang)
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const { code, stdout } = await cli('evaluate', ['--file', path]);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(Object.keys(out.by_lang).sort()).toEqual(['ar', 'de', 'es', 'fr', 'hi', 'it', 'pt']);
    for (const m of Object.values(out.by_lang) as Array<{ n: number; macro_f1: number; lang_identified: number; supported: number }>) {
      expect(m.n).toBeGreaterThan(20);
      expect(m.macro_f1).toBeGreaterThan(0.2);
      expect(m.lang_identified).toBeGreaterThan(0.6);
      expect(m.supported).toBeGreaterThan(0.9);
    }
  });

  it('prints the metrics the scorer implies', async () => {
    const rows = [
      { text: 'I absolutely love this channel', label: 'positive' },
      { text: 'worst thing I have ever watched, awful', label: 'negative' },
      { text: 'the video was uploaded on tuesday', label: 'neutral' },
      { text: 'not great, not terrible', label: 'neutral' },
      { text: 'amazing work, thank you!', label: 'positive' },
    ];
    const path = file('labeled.jsonl', rows.map((r) => JSON.stringify(r)).join('\n'));
    const { code, stdout } = await cli('evaluate', ['--file', path]);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(Object.keys(out).sort()).toEqual(['accuracy', 'confusion', 'macro_f1', 'macro_recall', 'model_version', 'n', 'per_class'].sort());
    const scorer = await createNodeScorer(defaultModelDir());
    const predicted = (await scorer.predict(rows.map((r) => r.text))).map((p) => labelIndex(p.label));
    const expected = evaluatePredictions(
      rows.map((r) => labelIndex(r.label)),
      predicted,
    );
    expect(out.n).toBe(5);
    expect(out.accuracy).toBeCloseTo(expected.accuracy);
    expect(out.macro_recall).toBeCloseTo(expected.macro_recall);
    expect(out.confusion.positive.positive).toBe(expected.confusion[2]![2]);
    expect(out.per_class.negative.support).toBe(1);
  });

  it('accepts CSV and names an unknown label with its line', async () => {
    const ok = file('l.csv', 'text,label\nlove it,Positive\n');
    expect((await cli('evaluate', ['--file', ok])).code).toBe(0);
    const bad = file('l2.csv', 'text,label\nlove it,positive\nhate it,angry\n');
    const { code, stderr } = await cli('evaluate', ['--file', bad]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/l2.csv:3: unknown label "angry" \(expected negative\|neutral\|positive\)/);
  });
});

describe('CLI input handling', () => {
  it("resolves a relative --file against the caller's folder (INIT_CWD under npm), not the repository", async () => {
    const callerDir = join(tmp, 'caller');
    mkdirSync(callerDir, { recursive: true });
    writeFileSync(join(callerDir, 'mine.jsonl'), '{"text": "great tutorial"}\n');
    writeFileSync(join(callerDir, 'mine.csv'), 'text,label\ngreat tutorial,positive\n');
    const scored = await cli('score', ['--file', 'mine.jsonl'], { INIT_CWD: callerDir });
    expect(scored.stderr).toBe('');
    expect(JSON.parse(scored.stdout).text).toBe('great tutorial');
    const evaluated = await cli('evaluate', ['--file', 'mine.csv'], { INIT_CWD: callerDir });
    expect(JSON.parse(evaluated.stdout).n).toBe(1);
    // Without INIT_CWD (run directly, not through npm) the process's own folder is the caller's.
    const direct = await cli('score', ['--file', 'mine.jsonl']);
    expect(direct.code).toBe(1);
    expect(direct.stderr).toContain(`${join(REPO_ROOT, 'mine.jsonl')}: file not found`);
  });

  it.each([
    ['a Latin-1 é in JSON Lines', 'latin1.jsonl', ['{"text": "fine", "label": "neutral"}\n{"text": "caf', [0xe9], '", "label": "neutral"}\n'], 2],
    ['a lone continuation byte after a BOM and CRLF lines', 'bom.jsonl', [[0xef, 0xbb, 0xbf], '{"text": "ok", "label": "neutral"}\r\n{"text": "b', [0x80], '", "label": "neutral"}\r\n'], 2],
    ['an encoded surrogate in a CSV', 'surrogate.csv', ['label,text\nneutral,"x', [0xed, 0xa0, 0x80], '"\n'], 2],
  ] as const)('refuses non-UTF-8 input (%s), naming the file, line and byte offset, with no output', async (_what, name, parts, line) => {
    const bytes = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    const bad = parts.find((p) => typeof p !== 'string' && p[0] !== 0xef) as readonly number[];
    const offset = bytes.indexOf(Buffer.from(bad));
    const path = join(tmp, name);
    writeFileSync(path, bytes);
    for (const script of ['score', 'evaluate'] as const) {
      const { code, stdout, stderr } = await cli(script, ['--file', path]);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toContain(`${script}: ${path}:${line}: not UTF-8 (byte 0x${bad[0]!.toString(16)} at byte offset ${offset})`);
    }
  });

  it("keeps a CSV's own label column and writes the prediction to predicted_label, saying so", async () => {
    const path = file('own-label.csv', 'id,text,label,score\n1,"I love this, best video ever",negative,5\n2,worst tutorial ever,positive,1\n');
    const { code, stdout, stderr } = await cli('score', ['--file', path]);
    expect(code).toBe(0);
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.id, r.label, r.score])).toEqual([
      ['1', 'negative', '5'],
      ['2', 'positive', '1'],
    ]);
    expect(rows.map((r) => r.predicted_label)).toEqual(['positive', 'negative']);
    expect(rows[0].predicted_score).toBeGreaterThan(0.5);
    expect(rows[0]).toMatchObject({ model_version: newest(), supported: true });
    expect(stderr).toContain('score: the input has its own "label" field: kept as it is; the prediction\'s "label" is written as "predicted_label"');
    expect(stderr).toContain('"score" is written as "predicted_score"');
    // Said once per field, not once per row.
    expect(stderr.match(/own "label"/g)).toHaveLength(1);
  });
});

describe('CLI input streaming', () => {
  // A 50 MB file read whole (as a string, then split and parsed) needs several times its size in
  // heap; streamed, the reader holds one line and one batch. Run under a 64 MB heap limit, the
  // old whole-file reader aborted with "JavaScript heap out of memory" on both files.
  const MB = 1024 * 1024;
  async function generate(path: string, kind: 'jsonl' | 'csv'): Promise<number> {
    const out = createWriteStream(path);
    if (kind === 'csv') out.write('id,text\n');
    const filler = 'this video was really good, I learned a lot about cooking pasta, thanks! '.repeat(6);
    let bytes = 0;
    let n = 0;
    while (bytes < 50 * MB) {
      const line = kind === 'csv' ? `${n},"${filler} ""#${n}"""\n` : `${JSON.stringify({ id: n, text: `${filler} #${n}` })}\n`;
      bytes += Buffer.byteLength(line);
      n++;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    return n;
  }

  it.each(['jsonl', 'csv'] as const)('reads a 50 MB %s file in bounded memory (64 MB heap limit)', async (kind) => {
    const path = join(tmp, `big.${kind}`);
    const n = await generate(path, kind);
    const script = join(tmp, 'count.mts');
    writeFileSync(
      script,
      `import { readTexts } from ${JSON.stringify(join(REPO_ROOT, 'node-runtime', 'io.ts'))};\n` +
        'let n = 0; let last = "";\n' +
        'for await (const r of readTexts(process.argv[2]!)) { n++; last = r.text; }\n' +
        'console.log(JSON.stringify({ n, last: last.slice(-12), maxRssMb: process.resourceUsage().maxRSS / 1024 }));\n',
    );
    const { stdout } = await run(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', script, path], { cwd: REPO_ROOT });
    const out = JSON.parse(stdout) as { n: number; last: string; maxRssMb: number };
    expect(out.n).toBe(n);
    expect(out.last).toBe((kind === 'csv' ? `thanks!  "#${n - 1}"` : `thanks!  #${n - 1}`).slice(-12));
    // The process as a whole (Node, tsx, one batch) stays well under the file's size times two.
    expect(out.maxRssMb).toBeLessThan(200);
    rmSync(path);
  });
});
