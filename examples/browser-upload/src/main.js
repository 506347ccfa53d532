import { createSecureClient, parsePolicy } from '@ccinfer/browser';
import { renderDocument } from './render.js';

const $ = (s) => document.querySelector(s);
const status = $('#status');
let client;

/** Simulated pods only: anchors served by the dev server (see vite.config.js). Real pods use the pinned roots. */
async function simulatedAnchors() {
  const res = await fetch('/anchors.json');
  return res.ok ? res.json() : undefined;
}

$('#verify').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('#verify-button').disabled = true;
  status.textContent = 'Verifying the pod…';
  const measurement = $('#measurement').value.trim().toLowerCase();
  const policy = parsePolicy({ version: 1, ...(measurement ? { snp: { measurements: [measurement] } } : {}) });
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
  } catch {
    $('#upload').hidden = true;
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
  try {
    const res = await client.upload(file, {
      path: '/v1/files',
      onProgress: (p) => {
        $('#progress').value = p.percent;
        status.textContent = `verified — ${p.phase === 'sealing' ? 'encrypting' : 'uploading'} ${p.percent}%`;
      },
    });
    out.textContent = `Uploaded ${file.name} (${file.size} bytes) encrypted: the pod answered ${res.status} ${await res.text()}`;
    out.dataset.status = String(res.status);
  } catch (err) {
    out.textContent = `Upload failed: ${err.code ?? err}`;
  } finally {
    $('#upload-button').disabled = false;
  }
});
