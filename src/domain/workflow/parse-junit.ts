import { decodeEntities, looksLikeFile, type RawCase, type RawParse } from './raw-case.ts';

const ATTRIBUTE = /([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(ATTRIBUTE)) out[m[1]!] = decodeEntities(m[2] ?? m[3] ?? '');
  return out;
}

/** The text of an element body: CDATA unwrapped, entities decoded, trimmed. */
function text(body: string): string {
  return decodeEntities(body.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1').replace(/<[^>]+>/g, '')).trim();
}

/** The first `<name …>` (or `<name …/>`) in `body`, with its attributes and inner text. */
function child(
  body: string,
  names: string[],
): { name: string; attrs: Record<string, string>; text: string } | null {
  const re = new RegExp(`<(${names.join('|')})\\b([^>]*?)(/>|>([\\s\\S]*?)</\\1\\s*>)`);
  const m = re.exec(body);
  if (!m) return null;
  return { name: m[1]!, attrs: attributes(m[2]!), text: m[4] !== undefined ? text(m[4]) : '' };
}

/**
 * JUnit XML as vitest, jest-junit, pytest, surefire and most runners write it: `<testsuites>` / `<testsuite>` of
 * `<testcase>` elements holding `<failure>`, `<error>` or `<skipped>`. A `<testsuite>` with an `<error>` outside
 * any case, or a failing case named after its own file, is a file that did not load.
 */
export function parseJUnit(xml: string): RawParse {
  const withoutComments = xml.replace(/<!--[\s\S]*?-->/g, '');
  if (!/<testsuites?\b/.test(withoutComments))
    return { ok: false, message: 'no <testsuites> or <testsuite> element' };
  const cases: RawCase[] = [];
  const suites = [...withoutComments.matchAll(/<testsuite\b([^>]*?)(\/>|>([\s\S]*?)<\/testsuite\s*>)/g)];
  for (const suite of suites) {
    const suiteAttrs = attributes(suite[1]!);
    const body = suite[3] ?? '';
    for (const c of body.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase\s*>)/g)) {
      const attrs = attributes(c[1]!);
      const inner = c[3] ?? '';
      const problem = child(inner, ['failure', 'error']);
      const skipped = child(inner, ['skipped']);
      const name = attrs['name'] ?? '';
      const file =
        attrs['file'] ?? (looksLikeFile(attrs['classname'] ?? '') ? attrs['classname'] : undefined);
      const rc: RawCase = {
        name,
        ownName: name.split(' > ').pop() ?? name,
        status: problem ? 'failed' : skipped ? 'skipped' : 'passed',
        topLevel: false,
      };
      if (file !== undefined) rc.file = file;
      if (problem) rc.message = problem.attrs['message'] || problem.text.split('\n')[0] || problem.name;
      const time = Number(attrs['time']);
      if (attrs['time'] !== undefined && Number.isFinite(time)) rc.durationMs = time * 1_000;
      if (problem && (name === attrs['classname'] || name === suiteAttrs['name']) && looksLikeFile(name))
        rc.loadError = true;
      cases.push(rc);
    }
    const outside = body.replace(/<testcase\b[\s\S]*?(\/>|<\/testcase\s*>)/g, '');
    const suiteError = child(outside, ['error', 'failure']);
    if (suiteError) {
      const name = suiteAttrs['name'] ?? suiteAttrs['file'] ?? 'test suite';
      const rc: RawCase = {
        name,
        ownName: name,
        status: 'failed',
        message: suiteError.attrs['message'] || suiteError.text.split('\n')[0] || 'suite error',
        topLevel: true,
        loadError: true,
      };
      const file = suiteAttrs['file'] ?? (looksLikeFile(name) ? name : undefined);
      if (file !== undefined) rc.file = file;
      cases.push(rc);
    }
  }
  return { ok: true, cases };
}
