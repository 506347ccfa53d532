/** Renders a ccinfer verification document readably: every check with its status, and each measurement with
 *  the value it was compared against (the policy's allowlist, or the binding the client recomputed). */

const MARK = { passed: '✔ passed', failed: '✘ failed', skipped: '– skipped' };

/** Where each measurement sits in the document, which check compared it, and against what. */
const MEASUREMENTS = [
  { name: 'SNP launch measurement', claim: ['cpu', 'measurement'], check: 'snp.policy.measurement', policy: (p) => p?.snp?.measurements },
  { name: 'SNP HOST_DATA', claim: ['cpu', 'hostData'], check: 'snp.policy.hostData', policy: (p) => p?.snp?.hostData },
  { name: 'TDX MRTD', claim: ['cpu', 'mrTd'], check: 'tdx.policy.mrTd', policy: (p) => p?.tdx?.mrTd },
  { name: 'TDX MRCONFIGID', claim: ['cpu', 'mrConfigId'], check: 'tdx.policy.mrConfigId', policy: (p) => p?.tdx?.mrConfigId },
  { name: 'REPORT_DATA', claim: ['cpu', 'reportData'], check: 'binding.reportData', against: 'ccinfer/1 binding of this page’s nonce, the session key and the device reports (recomputed here)' },
];

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  tr.append(td);
}

export function renderDocument(doc, policy) {
  const byId = new Map(doc.checks.map((c) => [c.id, c]));
  const verdict = document.querySelector('#verdict');
  verdict.textContent = doc.ok ? `Verified: accepted at ${doc.verifiedAt}` : `Refused: ${doc.errors.map((e) => e.code).join(', ')}`;
  verdict.className = doc.ok ? 'ok' : 'bad';
  const warnings = document.querySelector('#warnings');
  warnings.replaceChildren(...doc.warnings.map((w) => Object.assign(document.createElement('li'), { textContent: w })));

  const mbody = document.querySelector('#measurements tbody');
  mbody.replaceChildren();
  for (const m of MEASUREMENTS) {
    const value = m.claim.reduce((o, k) => o?.[k], doc.claims);
    if (value === undefined) continue;
    const check = byId.get(m.check);
    const list = m.policy?.(policy);
    const against = m.against ?? (list ? `policy allowlist: ${list.join(', ')}` : 'nothing: not pinned by the policy (reported only)');
    const tr = document.createElement('tr');
    tr.dataset.measurement = m.check;
    cell(tr, m.name);
    cell(tr, String(value), 'hex');
    cell(tr, against, m.against ? '' : 'hex');
    cell(tr, check ? MARK[check.status] : 'not reached', check?.status);
    mbody.append(tr);
  }

  const cbody = document.querySelector('#checks tbody');
  cbody.replaceChildren(
    ...doc.checks.map((c) => {
      const tr = document.createElement('tr');
      tr.dataset.check = c.id;
      cell(tr, MARK[c.status], c.status);
      cell(tr, c.id);
      cell(tr, c.status === 'failed' ? `${c.code}: ${c.detail ?? ''}` : c.detail ?? '');
      return tr;
    }),
  );
  document.querySelector('#document').hidden = false;
}
