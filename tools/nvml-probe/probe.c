/*
 * nvml-probe: checks the NVML confidential-computing struct layouts that ccinfer's NVML collector declares
 * (packages/node/src/gateway/evidence/gpu/nvml.ts) against a real libnvidia-ml.so.1, and prints what the driver
 * answers. Our own layouts are declared below; when NVIDIA's nvml.h is found at build time (-DHAVE_NVML_H) the
 * probe also prints sizeof/offsetof from the header so the two can be compared.
 *
 * Build: cc -O0 -o probe probe.c -ldl [-DHAVE_NVML_H -I<dir of nvml.h>]
 * Run:   ./probe            (JSON-ish lines on stdout; exits 0 whatever the driver answers)
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#ifdef HAVE_NVML_H
#include <nvml.h>
#endif

/* The layouts ccinfer declares (research notes §2.3, from NVIDIA's nvml.h as used by NVAT). */
typedef struct { uint32_t environment, ccFeature, devToolsMode; } cc_state_t;
typedef struct { uint32_t version, environment, ccFeature, devToolsMode, multiGpuMode; } cc_settings_t;
typedef struct {
  uint32_t isCecAttestationReportPresent, attestationReportSize, cecAttestationReportSize;
  uint8_t nonce[32];
  uint8_t attestationReport[0x2000];
  uint8_t cecAttestationReport[0x1000];
} cc_report_t;
typedef struct {
  uint32_t certChainSize, attestationCertChainSize;
  uint8_t certChain[0x1000];
  uint8_t attestationCertChain[0x1400];
} cc_cert_t;

typedef int (*fn_void)(void);
typedef int (*fn_ptr)(void *);
typedef int (*fn_idx)(unsigned, void **);
typedef int (*fn_dev_ptr)(void *, void *);
typedef int (*fn_buf)(char *, unsigned);
typedef int (*fn_dev_buf)(void *, char *, unsigned);
typedef const char *(*fn_str)(int);

static void *lib;
static fn_str err_str;
static void *sym(const char *n) { void *p = dlsym(lib, n); if (!p) printf("{\"missing\":\"%s\"}\n", n); return p; }
static void ret(const char *call, int rc) { printf("{\"call\":\"%s\",\"rc\":%d,\"text\":\"%s\"}\n", call, rc, err_str ? err_str(rc) : "?"); }

int main(void) {
  printf("{\"ours\":{\"state\":%zu,\"settings\":%zu,\"report\":%zu,\"report.nonce\":%zu,\"report.attestationReport\":%zu,"
         "\"report.cec\":%zu,\"cert\":%zu,\"cert.certChain\":%zu,\"cert.attestationCertChain\":%zu}}\n",
         sizeof(cc_state_t), sizeof(cc_settings_t), sizeof(cc_report_t), offsetof(cc_report_t, nonce),
         offsetof(cc_report_t, attestationReport), offsetof(cc_report_t, cecAttestationReport), sizeof(cc_cert_t),
         offsetof(cc_cert_t, certChain), offsetof(cc_cert_t, attestationCertChain));
#ifdef HAVE_NVML_H
  printf("{\"header\":{\"state\":%zu,\"settings\":%zu,\"settings_v1\":%u,\"report\":%zu,\"report.nonce\":%zu,"
         "\"report.attestationReport\":%zu,\"report.cec\":%zu,\"cert\":%zu,\"cert.certChain\":%zu,"
         "\"cert.attestationCertChain\":%zu}}\n",
         sizeof(nvmlConfComputeSystemState_t), sizeof(nvmlSystemConfComputeSettings_t),
         (unsigned)nvmlSystemConfComputeSettings_v1, sizeof(nvmlConfComputeGpuAttestationReport_t),
         offsetof(nvmlConfComputeGpuAttestationReport_t, nonce),
         offsetof(nvmlConfComputeGpuAttestationReport_t, attestationReport),
         offsetof(nvmlConfComputeGpuAttestationReport_t, cecAttestationReport),
         sizeof(nvmlConfComputeGpuCertificate_t), offsetof(nvmlConfComputeGpuCertificate_t, certChain),
         offsetof(nvmlConfComputeGpuCertificate_t, attestationCertChain));
#endif
  lib = dlopen("libnvidia-ml.so.1", RTLD_NOW);
  if (!lib) { printf("{\"dlopen\":\"%s\"}\n", dlerror()); return 0; }
  err_str = (fn_str)dlsym(lib, "nvmlErrorString");
  fn_void init = (fn_void)sym("nvmlInit_v2");
  if (!init) return 0;
  ret("nvmlInit_v2", init());

  char buf[96] = {0};
  fn_buf drv = (fn_buf)sym("nvmlSystemGetDriverVersion");
  if (drv) { int rc = drv(buf, 80); ret("nvmlSystemGetDriverVersion", rc); printf("{\"driver\":\"%s\"}\n", buf); }
  /* Too-small buffer: does the driver refuse (INSUFFICIENT_SIZE) rather than truncate? */
  if (drv) { char small[4] = {0}; ret("nvmlSystemGetDriverVersion(len=4)", drv(small, 4)); }

  cc_state_t st; memset(&st, 0xAB, sizeof st);
  fn_ptr gs = (fn_ptr)sym("nvmlSystemGetConfComputeState");
  if (gs) { ret("nvmlSystemGetConfComputeState", gs(&st));
    printf("{\"state\":{\"environment\":%u,\"ccFeature\":%u,\"devToolsMode\":%u}}\n", st.environment, st.ccFeature, st.devToolsMode); }

  fn_ptr gset = (fn_ptr)sym("nvmlSystemGetConfComputeSettings");
  if (gset) {
    cc_settings_t s; memset(&s, 0xAB, sizeof s); s.version = (uint32_t)sizeof s | (1u << 24);
    ret("nvmlSystemGetConfComputeSettings(v1)", gset(&s));
    printf("{\"settings\":{\"version\":%u,\"environment\":%u,\"ccFeature\":%u,\"devToolsMode\":%u,\"multiGpuMode\":%u}}\n",
           s.version, s.environment, s.ccFeature, s.devToolsMode, s.multiGpuMode);
    cc_settings_t w; memset(&w, 0, sizeof w); w.version = (uint32_t)sizeof w | (2u << 24);
    ret("nvmlSystemGetConfComputeSettings(wrong version 2)", gset(&w));
    memset(&w, 0, sizeof w); w.version = 0;
    ret("nvmlSystemGetConfComputeSettings(version 0)", gset(&w));
  }
  fn_ptr ready = (fn_ptr)sym("nvmlSystemGetConfComputeGpusReadyState");
  if (ready) { uint32_t r = 77; ret("nvmlSystemGetConfComputeGpusReadyState", ready(&r)); printf("{\"ready\":%u}\n", r); }

  fn_ptr count = (fn_ptr)sym("nvmlDeviceGetCount_v2");
  unsigned n = 0; if (count) { ret("nvmlDeviceGetCount_v2", count(&n)); printf("{\"count\":%u}\n", n); }
  fn_idx byidx = (fn_idx)sym("nvmlDeviceGetHandleByIndex_v2");
  void *dev = NULL;
  if (byidx) {
    void *past = NULL; /* one past the last index: the collector relies on a refusal here */
    ret("nvmlDeviceGetHandleByIndex_v2(count)", byidx(n, &past));
    ret("nvmlDeviceGetHandleByIndex_v2(0)", byidx(0, &dev));
  }
  if (!dev) return 0;
  fn_dev_ptr arch = (fn_dev_ptr)sym("nvmlDeviceGetArchitecture");
  if (arch) { uint32_t a = 0; ret("nvmlDeviceGetArchitecture", arch(dev, &a)); printf("{\"architecture\":%u}\n", a); }
  fn_dev_buf uuid = (fn_dev_buf)sym("nvmlDeviceGetUUID");
  if (uuid) { memset(buf, 0, sizeof buf); ret("nvmlDeviceGetUUID", uuid(dev, buf, 80)); printf("{\"uuidLength\":%zu}\n", strlen(buf)); }
  fn_dev_buf vb = (fn_dev_buf)sym("nvmlDeviceGetVbiosVersion");
  if (vb) { memset(buf, 0, sizeof buf); ret("nvmlDeviceGetVbiosVersion", vb(dev, buf, 32)); printf("{\"vbios\":\"%s\"}\n", buf); }

  fn_dev_ptr rep = (fn_dev_ptr)sym("nvmlDeviceGetConfComputeGpuAttestationReport");
  if (rep) {
    static cc_report_t r; memset(&r, 0, sizeof r); for (int i = 0; i < 32; i++) r.nonce[i] = (uint8_t)i;
    ret("nvmlDeviceGetConfComputeGpuAttestationReport", rep(dev, &r));
    printf("{\"report\":{\"isCec\":%u,\"size\":%u,\"cecSize\":%u,\"nonce0\":%u,\"nonce31\":%u}}\n",
           r.isCecAttestationReportPresent, r.attestationReportSize, r.cecAttestationReportSize, r.nonce[0], r.nonce[31]);
  }
  fn_dev_ptr cert = (fn_dev_ptr)sym("nvmlDeviceGetConfComputeGpuCertificate");
  if (cert) {
    static cc_cert_t c; memset(&c, 0, sizeof c);
    ret("nvmlDeviceGetConfComputeGpuCertificate", cert(dev, &c));
    printf("{\"cert\":{\"certChainSize\":%u,\"attestationCertChainSize\":%u}}\n", c.certChainSize, c.attestationCertChainSize);
  }
  fn_void shut = (fn_void)sym("nvmlShutdown");
  if (shut) ret("nvmlShutdown", shut());
  return 0;
}
