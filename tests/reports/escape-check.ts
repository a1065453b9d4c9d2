/**
 * What "every user string is escaped" means, checked on a parsed report: the only scripts are ours
 * (the hashed hover script and inert JSON data blocks), no element carries an event handler, no
 * injected element exists, and every hostile string is present as text.
 */
import { createHash } from 'node:crypto';
import { HOVER_SCRIPT } from '../../reports/hover-script.ts';

export function injectionProblems(doc: Document, html: string, texts: string[]): string[] {
  const problems: string[] = [];
  for (const s of Array.from(doc.querySelectorAll('script'))) {
    const json = s.getAttribute('type') === 'application/json' && s.classList.contains('hover-data');
    if (!json && s.textContent !== HOVER_SCRIPT) problems.push(`foreign script: ${s.outerHTML.slice(0, 80)}`);
    if (json) {
      try {
        JSON.parse(s.textContent ?? '');
      } catch {
        problems.push('a hover-data block is not valid JSON');
      }
    }
  }
  const main = Array.from(doc.querySelectorAll('script:not([type])'));
  if (main.length !== 1) problems.push(`${main.length} executable scripts, expected 1`);
  for (const e of Array.from(doc.querySelectorAll('*'))) {
    for (const a of Array.from(e.attributes)) {
      if (/^on/i.test(a.name)) problems.push(`event handler ${a.name} on <${e.tagName}>`);
      if (/^(src|href|xlink:href)$/i.test(a.name) && !/^(#|data:image\/png;base64,)/.test(a.value))
        problems.push(`<${e.tagName} ${a.name}="${a.value.slice(0, 40)}">`);
    }
  }
  for (const tag of ['img', 'iframe', 'object', 'embed', 'link', 'base', 'form']) {
    if (doc.getElementsByTagName(tag).length) problems.push(`injected <${tag}>`);
  }
  if (doc.querySelectorAll('style').length !== 1)
    problems.push(`${doc.querySelectorAll('style').length} <style> elements, expected 1`);
  const closing = html.split('</script>').length - 1;
  if (closing !== doc.querySelectorAll('script').length)
    problems.push(`${closing} '</script>' in the source for ${doc.querySelectorAll('script').length} scripts`);
  const body = doc.body.textContent ?? '';
  for (const t of texts) if (!body.includes(t)) problems.push(`text not shown: ${t}`);
  // The CSP must allow exactly our script.
  const csp = doc.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '';
  const hash = createHash('sha256').update(HOVER_SCRIPT, 'utf8').digest('base64');
  if (!csp.includes(`'sha256-${hash}'`) || !csp.includes("default-src 'none'"))
    problems.push(`CSP does not pin the script: ${csp}`);
  return problems;
}
