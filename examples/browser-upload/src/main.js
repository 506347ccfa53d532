import { createSecureClient, parsePolicy } from '@ccinfer/browser';
import { renderDocument } from './render.js';

const $ = (s) => document.querySelector(s);
const status = $('#status');
let client;
/** A policy loaded from a file replaces the measurement field (both are checked by parsePolicy). */
let loadedPolicy;

/** Simulated pods only: anchors served by the dev server (see vite.config.js). Real pods use the pinned roots. */
async function simulatedAnchors() {
  const res = await fetch('/anchors.json');
  return res.ok ? res.json() : undefined;
}

$('#policy-file').addEventListener('change', async () => {
  const file = $('#policy-file').files[0];
  const out = $('#policy-status');
  loadedPolicy = undefined;
  if (!file) {
    out.textContent = '';
    return;
  }
  try {
    loadedPolicy = parsePolicy(JSON.parse(await file.text()));
    out.textContent = `Using ${file.name}: ${Object.keys(loadedPolicy).filter((k) => k !== 'version').join(', ') || 'no rules'} (the pin fields are ignored).`;
  } catch (err) {
    out.textContent = `${file.name} is not a valid policy: ${err.fields?.join('; ') ?? err.message}`;
  }
});

$('#verify').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('#verify-button').disabled = true;
  status.textContent = 'Verifying the pod…';
  let policy;
  try {
    const measurement = $('#measurement').value.trim().toLowerCase();
    const hostData = $('#host-data').value.trim().toLowerCase();
    const snp = { ...(measurement ? { measurements: [measurement] } : {}), ...(hostData ? { hostData: [hostData] } : {}) };
    policy = loadedPolicy ?? parsePolicy({ version: 1, ...(measurement || hostData ? { snp } : {}) });
  } catch (err) {
    status.textContent = `The pins are not valid: ${err.fields?.join('; ') ?? err.message}`;
    $('#verify-button').disabled = false;
    return;
  }
  const anchors = await simulatedAnchors();
  client = createSecureClient({ endpoint: location.origin, policy, ...(anchors ? { anchors } : {}) });
  client.on('rejected', ({ error, document: doc }) => {
    if (doc) renderDocument(doc, policy);
    status.textContent = `Refused (${error.code}). Nothing was uploaded.`;
  });
  try {
    const doc = await client.attest();
    renderDocument(doc, policy);
    status.textContent = 'Verified.';
    $('#upload').hidden = false;
  } catch (err) {
    $('#upload').hidden = true;
    if (err?.code === 'ERR_SESSION_UNREACHABLE' || err?.code === 'ERR_SESSION_NOT_A_POD') {
      status.textContent = `Could not reach a ccinfer pod (${err?.code ?? err}). Nothing was uploaded.`;
    }
  } finally {
    $('#verify-button').disabled = false;
  }
});

$('#upload').addEventListener('submit', async (e) => {
  e.preventDefault();
  const file = $('#file').files[0];
  if (!file || !client) return;
  $('#upload-button').disabled = true;
  const out = $('#upload-status');
  delete out.dataset.status;
  $('#progress').value = 0;
  try {
    const res = await client.upload(file, {
      path: '/v1/files',
      onProgress: (p) => {
        $('#progress').value = p.percent;
        status.textContent = `verified — ${p.phase === 'sealing' ? 'encrypting' : 'uploading'} ${p.percent}%`;
      },
    });
    const text = await res.text();
    out.dataset.status = String(res.status);
    if (res.ok) {
      out.textContent = `Uploaded ${file.name} (${file.size} bytes) encrypted: the pod answered ${res.status} ${text}`;
    } else {
      // The bytes left, but the pod's app refused them: not a success, whatever the progress bar reached.
      status.textContent = `verified — upload refused (HTTP ${res.status})`;
      out.textContent = `Upload refused: the pod answered ${res.status} ${text.slice(0, 200)}`;
    }
  } catch (err) {
    $('#progress').value = 0;
    status.textContent = `verified — upload failed (${err.code ?? err.name ?? 'error'})`;
    out.textContent = `Upload failed: ${err.code ?? err}`;
  } finally {
    $('#upload-button').disabled = false;
  }
});
