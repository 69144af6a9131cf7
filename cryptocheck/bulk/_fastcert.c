/* cryptocheck.bulk._fastcert: the per-certificate hot path of the bulk scanner, in C.
 *
 * Optional: cryptocheck.bulk.pyscan is a pure-Python scanner with the same interface and the
 * same output bytes (tests compare them). This file decides nothing about policy: it finds
 * certificate blocks, decodes them, reads the few DER fields a policy looks at, and renders a
 * line from a template the Python side computed once per class through the real engine.
 * Anything it is not sure of (an odd label, a body that is not plain base64, DER it does not
 * read with certainty, a name it cannot compare) it hands back to Python, which reads that
 * certificate through the normal path. Being conservative costs speed, never correctness.
 *
 * Entries are kept as two buffers: the lines as they will be written, and per line a meta
 * record the merger reads (so lines are never copied when nothing is dropped):
 *   certificate: u8 1, digest[32], u32 class, u16 month, u32 len
 *   raw line:    u8 2, u32 len
 * Integers are little-endian.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

/* OpenSSL 3's one-shot SHA256() fetches the algorithm on every call; the low-level calls
 * go straight to the (SHA-NI) implementation. */
static void sha256(const uint8_t *d, size_t n, uint8_t out[32])
{
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, d, n);
    SHA256_Final(out, &ctx);
}

/* ---------------------------------------------------------------- DER reading */

typedef struct {
    const uint8_t *p;   /* element start */
    const uint8_t *v;   /* value start */
    size_t vlen;
    size_t tlen;        /* whole element */
    uint8_t tag;
} Tlv;

/* Strict DER header: single-byte tag, definite minimal length. 0 ok, -1 doubt. */
static int tlv_read(const uint8_t *p, size_t avail, Tlv *t)
{
    if (avail < 2) return -1;
    uint8_t tag = p[0];
    if ((tag & 0x1F) == 0x1F) return -1;
    size_t pos = 2, len;
    uint8_t first = p[1];
    if (first < 0x80) {
        len = first;
    } else {
        size_t count = first & 0x7F;
        if (count == 0 || count > 4 || avail < 2 + count) return -1;
        if (p[2] == 0) return -1;                 /* leading zero: not minimal */
        len = 0;
        for (size_t i = 0; i < count; i++) len = (len << 8) | p[2 + i];
        if (len < 0x80) return -1;                /* long form for a short length */
        pos += count;
    }
    if (len > avail - pos) return -1;
    t->p = p; t->v = p + pos; t->vlen = len; t->tlen = pos + len; t->tag = tag;
    return 0;
}

typedef struct Time Time;
static int printable_ok(const uint8_t *v, size_t n);
static int utf8_ok(const uint8_t *v, size_t n);
static int ascii_ok(const uint8_t *v, size_t n);
static int time_ok(const Tlv *t);

/* Every element inside is well-formed DER of the kinds X.509 uses, recursively: universal
 * types limited to those certificates hold, each with its content checked (minimal
 * integers, BIT STRING padding, string alphabets, time formats); no APPLICATION or PRIVATE
 * tags. Inside extensions (in_ext), the primitive [1], [2] and [6] that GeneralNames use
 * for rfc822Name, dNSName and URI must be ASCII. Stricter than needed is safe: a doubt
 * sends the certificate to the normal path. */
static int der_walk(const uint8_t *p, size_t n, int depth, int in_ext)
{
    if (depth > 32) return -1;
    size_t pos = 0;
    while (pos < n) {
        Tlv t;
        if (tlv_read(p + pos, n - pos, &t)) return -1;
        uint8_t cls = t.tag & 0xC0, num = t.tag & 0x1F;
        if (cls == 0x40 || cls == 0xC0) return -1;          /* APPLICATION, PRIVATE */
        if (cls == 0x80 && in_ext && num > 8) return -1;    /* beyond GeneralName's [0]..[8] */
        if (t.tag & 0x20) {
            if (cls == 0 && num != 0x10 && num != 0x11) return -1;  /* only SEQUENCE, SET */
            if (der_walk(t.v, t.vlen, depth + 1, in_ext)) return -1;
        } else if (cls == 0x80) {
            if (in_ext && (num == 1 || num == 2 || num == 6) && !ascii_ok(t.v, t.vlen)) return -1;
        } else switch (num) {
        case 0x01:                                          /* BOOLEAN */
            if (t.vlen != 1 || (t.v[0] != 0 && t.v[0] != 0xFF)) return -1;
            break;
        case 0x02: case 0x0A:                               /* INTEGER, ENUMERATED */
            if (t.vlen == 0) return -1;
            if (t.vlen > 1 && ((t.v[0] == 0 && !(t.v[1] & 0x80)) ||
                               (t.v[0] == 0xFF && (t.v[1] & 0x80)))) return -1;
            break;
        case 0x03:                                          /* BIT STRING */
            if (t.vlen == 0 || t.v[0] > 7 || (t.vlen == 1 && t.v[0] != 0)) return -1;
            if (t.v[0] && (t.v[t.vlen - 1] & ((1u << t.v[0]) - 1))) return -1;
            break;
        case 0x04:                                          /* OCTET STRING */
            break;
        case 0x05:                                          /* NULL */
            if (t.vlen != 0) return -1;
            break;
        case 0x06:                                          /* OID */
            if (t.vlen == 0 || (t.v[t.vlen - 1] & 0x80)) return -1;
            for (size_t i = 0; i < t.vlen; i++)
                if (t.v[i] == 0x80 && (i == 0 || !(t.v[i - 1] & 0x80))) return -1;
            break;
        case 0x0C:                                          /* UTF8String */
            if (!utf8_ok(t.v, t.vlen)) return -1;
            break;
        case 0x13:                                          /* PrintableString */
            if (!printable_ok(t.v, t.vlen)) return -1;
            break;
        case 0x16:                                          /* IA5String */
            if (!ascii_ok(t.v, t.vlen)) return -1;
            break;
        case 0x1A:                                          /* VisibleString */
            for (size_t i = 0; i < t.vlen; i++) if (t.v[i] < 0x20 || t.v[i] > 0x7E) return -1;
            break;
        case 0x1E:                                          /* BMPString */
            if (t.vlen % 2) return -1;
            break;
        case 0x17: case 0x18:                               /* UTCTime, GeneralizedTime */
            if (!time_ok(&t)) return -1;
            break;
        default:
            return -1;
        }
        pos += t.tlen;
    }
    return 0;
}

static int children(const Tlv *parent, Tlv *out, int max)
{
    size_t pos = 0;
    int n = 0;
    while (pos < parent->vlen) {
        if (n >= max) return -1;
        if (tlv_read(parent->v + pos, parent->vlen - pos, &out[n])) return -1;
        pos += out[n].tlen;
        n++;
    }
    return n;
}

static int oid_is(const Tlv *t, const uint8_t *oid, size_t n)
{
    return t->tag == 0x06 && t->vlen == n && memcmp(t->v, oid, n) == 0;
}

static const uint8_t OID_RSA[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01};
static const uint8_t OID_RSA_OAEP[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x07};
static const uint8_t OID_RSA_PSS[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A};
static const uint8_t OID_BC[] = {0x55, 0x1D, 0x13};
static const uint8_t OID_SKI[] = {0x55, 0x1D, 0x0E};
static const uint8_t OID_AKI[] = {0x55, 0x1D, 0x23};

/* The parameters cryptography insists on for the AlgorithmIdentifiers we meet every day;
 * 1 fine, 0 doubt (another algorithm, or parameters it would refuse). */
static const uint8_t OID_PKCS1[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01};
static const uint8_t OID_ECDSA_SHA1[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x01};
static const uint8_t OID_ECDSA_SHA2[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03};
static const uint8_t OID_EC_KEY[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01};
static const uint8_t OID_EDWARDS[] = {0x2B, 0x65};

static int alg_ok(const Tlv *alg, int signature)
{
    Tlv part[3];
    int n = children(alg, part, 3);
    if (alg->tag != 0x30 || n < 1 || n > 2 || part[0].tag != 0x06) return 0;
    const Tlv *oid = &part[0];
    int absent = n == 1, null = n == 2 && part[1].tag == 0x05;
    if (oid->vlen == 9 && !memcmp(oid->v, OID_PKCS1, 8)) {
        uint8_t last = oid->v[8];
        int rsa = signature ? (last == 4 || last == 5 || (last >= 11 && last <= 14)) : last == 1;
        return rsa && (absent || null);
    }
    if (signature && oid->vlen == 7 && !memcmp(oid->v, OID_ECDSA_SHA1, 7)) return absent;
    if (signature && oid->vlen == 8 && !memcmp(oid->v, OID_ECDSA_SHA2, 7) &&
        oid->v[7] >= 1 && oid->v[7] <= 4) return absent;
    if (oid->vlen == 3 && !memcmp(oid->v, OID_EDWARDS, 2) && oid->v[2] >= 110 && oid->v[2] <= 113)
        return absent && (!signature || oid->v[2] >= 112);
    if (!signature && oid->vlen == 7 && !memcmp(oid->v, OID_EC_KEY, 7))
        return n == 2 && part[1].tag == 0x06;
    return 0;
}

/* --------------------------------------------------------------- times */

static int digits(const uint8_t *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

struct Time { int y, mo, d, h, mi, s; int64_t epoch; };

static int read_time(const Tlv *t, Time *out)
{
    const uint8_t *s = t->v;
    int y;
    if (t->tag == 0x17) {
        if (t->vlen != 13 || s[12] != 'Z') return -1;
        y = digits(s, 2);
        if (y < 0) return -1;
        y += y >= 50 ? 1900 : 2000;
        s += 2;
    } else if (t->tag == 0x18) {
        if (t->vlen != 15 || s[14] != 'Z') return -1;
        y = digits(s, 4);
        if (y < 1) return -1;
        s += 4;
    } else {
        return -1;
    }
    int mo = digits(s, 2), d = digits(s + 2, 2), h = digits(s + 4, 2);
    int mi = digits(s + 6, 2), sec = digits(s + 8, 2);
    if (mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
        return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap)) return -1;
    out->y = y; out->mo = mo; out->d = d; out->h = h; out->mi = mi; out->s = sec;
    out->epoch = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return 0;
}

static int time_ok(const Tlv *t)
{
    Time scratch;
    return read_time(t, &scratch) == 0;
}

/* --------------------------------------------------------------- names */

static int printable_ok(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = v[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
        if (strchr(" '()+,-./:=?", c) && c) continue;
        return 0;
    }
    return 1;
}

static int utf8_ok(const uint8_t *v, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = v[i];
        if (c < 0x80) { i++; continue; }
        size_t k;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; }
        else return 0;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (v[i + j] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (v[i + j] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += k + 1;
    }
    return 1;
}

static int ascii_ok(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) if (v[i] >= 0x80) return 0;
    return 1;
}

/* Check one Name; fill up to 32 (oid, value) attribute pointers. Returns count, -1 doubt. */
typedef struct { Tlv oid; Tlv value; } Attr;

static int read_name(const Tlv *name, Attr *attrs, int max)
{
    if (name->tag != 0x30) return -1;
    Tlv rdns[32];
    int nr = children(name, rdns, 32);
    if (nr < 0 || nr > max) return -1;
    for (int i = 0; i < nr; i++) {
        Tlv in[2];
        if (rdns[i].tag != 0x31) return -1;
        if (children(&rdns[i], in, 1) != 1) return -1;   /* multi-valued RDN: doubt */
        Tlv av[2];
        if (in[0].tag != 0x30 || children(&in[0], av, 2) != 2) return -1;
        if (av[0].tag != 0x06) return -1;
        const Tlv *v = &av[1];
        /* der_walk has checked the contents of these string types already */
        if (v->tag != 0x13 && v->tag != 0x0C && v->tag != 0x16) return -1;
        attrs[i].oid = av[0];
        attrs[i].value = *v;
    }
    return nr;
}

/* cryptography compares names by (oid, decoded string) per RDN. 1 equal, 0 not, -1 doubt. */
static int names_equal(const Tlv *a, const Tlv *b)
{
    Attr x[32], y[32];
    int nx = read_name(a, x, 32), ny = read_name(b, y, 32);
    if (nx < 0 || ny < 0) return -1;
    if (a->tlen == b->tlen && memcmp(a->p, b->p, a->tlen) == 0) return 1;
    if (nx != ny) return 0;
    for (int i = 0; i < nx; i++) {
        if (x[i].oid.vlen != y[i].oid.vlen || memcmp(x[i].oid.v, y[i].oid.v, x[i].oid.vlen))
            return 0;
        /* every type we accept decodes its bytes as UTF-8 (ASCII is a subset) */
        if (x[i].value.vlen != y[i].value.vlen ||
            memcmp(x[i].value.v, y[i].value.v, x[i].value.vlen)) return 0;
    }
    return 1;
}

/* --------------------------------------------------------------- certificate facts */

typedef struct {
    const uint8_t *sigalg; size_t sigalg_len;   /* outer signatureAlgorithm, raw */
    const uint8_t *keyalg; size_t keyalg_len;   /* SPKI AlgorithmIdentifier, raw */
    int32_t key_bits;                           /* RSA modulus bits, -1 otherwise */
    int is_ca, self_signed;
    Time nb, na;
} Facts;

static int32_t int_bits(const Tlv *t)
{
    if (t->tag != 0x02 || t->vlen == 0) return -1;
    if (t->v[0] & 0x80) return -1;             /* negative modulus: doubt */
    size_t i = 0;
    while (i < t->vlen && t->v[i] == 0) i++;
    if (i == t->vlen) return 0;
    int32_t bits = (int32_t)((t->vlen - i - 1) * 8);
    uint8_t top = t->v[i];
    while (top) { bits++; top >>= 1; }
    return bits;
}

/* Parse one certificate occupying exactly d[0..n). 0 ok, -1 doubt. */
static int parse_cert(const uint8_t *d, size_t n, Facts *f)
{
    Tlv cert, top[4], tbs[12];
    if (tlv_read(d, n, &cert) || cert.tlen != n || cert.tag != 0x30) return -1;
    if (der_walk(cert.v, cert.vlen, 0, 0)) return -1;
    if (children(&cert, top, 4) != 3) return -1;
    if (top[0].tag != 0x30 || top[1].tag != 0x30 || top[2].tag != 0x03) return -1;
    if (top[2].vlen < 1 || top[2].v[0] > 7) return -1;
    int nt = children(&top[0], tbs, 12);
    if (nt < 6) return -1;
    int i = 0, v3 = 0;
    if (tbs[0].tag == 0xA0) {
        Tlv ver[2];
        if (children(&tbs[0], ver, 2) != 1 || ver[0].tag != 0x02 || ver[0].vlen != 1 ||
            ver[0].v[0] != 2) return -1;
        v3 = 1;
        i = 1;
    }
    if (nt - i < 6) return -1;
    const Tlv *serial = &tbs[i], *sig = &tbs[i + 1], *issuer = &tbs[i + 2];
    const Tlv *validity = &tbs[i + 3], *subject = &tbs[i + 4], *spki = &tbs[i + 5];
    if (serial->tag != 0x02 || sig->tag != 0x30 || validity->tag != 0x30 ||
        spki->tag != 0x30) return -1;
    Tlv times[3];
    if (children(validity, times, 3) != 2) return -1;
    if (read_time(&times[0], &f->nb) || read_time(&times[1], &f->na)) return -1;

    /* optional fields: [1] issuerUID, [2] subjectUID (v2+), [3] extensions (v3) */
    const Tlv *exts = NULL;
    int last = 0;
    for (int j = i + 6; j < nt; j++) {
        int which = tbs[j].tag == 0x81 ? 1 : tbs[j].tag == 0x82 ? 2 : tbs[j].tag == 0xA3 ? 3 : 0;
        if (which <= last || !v3) return -1;
        last = which;
        if (which == 3) exts = &tbs[j];
    }

    /* signature algorithm (outer) and subject key */
    if (!alg_ok(sig, 1) || !alg_ok(&top[1], 1)) return -1;
    Tlv alg[3];
    int na = children(&top[1], alg, 3);
    if (na < 1 || na > 2 || alg[0].tag != 0x06) return -1;
    if (top[1].tlen > 200) return -1;
    f->sigalg = top[1].p; f->sigalg_len = top[1].tlen;
    Tlv sp[3], ka[3];
    if (children(spki, sp, 3) != 2 || sp[0].tag != 0x30 || sp[1].tag != 0x03) return -1;
    if (!alg_ok(&sp[0], 0)) return -1;
    int nk = children(&sp[0], ka, 3);
    if (nk < 1 || nk > 2 || ka[0].tag != 0x06) return -1;
    f->key_bits = -1;
    if (oid_is(&ka[0], OID_RSA, sizeof OID_RSA) || oid_is(&ka[0], OID_RSA_PSS, sizeof OID_RSA_PSS) ||
        oid_is(&ka[0], OID_RSA_OAEP, sizeof OID_RSA_OAEP)) {
        Tlv key, parts[3];
        if (sp[1].vlen < 2 || sp[1].v[0] != 0) return -1;
        if (tlv_read(sp[1].v + 1, sp[1].vlen - 1, &key) || key.tag != 0x30 ||
            key.tlen != sp[1].vlen - 1) return -1;
        if (children(&key, parts, 3) != 2) return -1;
        f->key_bits = int_bits(&parts[0]);
        if (f->key_bits <= 0) return -1;
    } else if (sp[0].tlen > 100) {
        return -1;
    }
    f->keyalg = sp[0].p; f->keyalg_len = sp[0].tlen;

    /* extensions: basicConstraints cA, SKI, AKI keyIdentifier */
    f->is_ca = 0;
    const uint8_t *ski = NULL, *aki = NULL;
    size_t ski_len = 0, aki_len = 0;
    if (exts) {
        Tlv seq[2], list[64];
        if (children(exts, seq, 2) != 1 || seq[0].tag != 0x30) return -1;
        int ne = children(&seq[0], list, 64);
        if (ne < 1) return -1;
        Tlv seen[64];                              /* extension OIDs met so far */
        for (int e = 0; e < ne; e++) {
            Tlv part[4];
            int np = children(&list[e], part, 4);
            if (list[e].tag != 0x30 || np < 2 || np > 3 || part[0].tag != 0x06) return -1;
            for (int o = 0; o < e; o++) {
                if (seen[o].vlen == part[0].vlen && !memcmp(seen[o].v, part[0].v, part[0].vlen))
                    return -1;                     /* duplicate extension */
            }
            seen[e] = part[0];
            const Tlv *value = &part[np - 1];
            if (value->tag != 0x04) return -1;
            if (np == 3 && (part[1].tag != 0x01 || part[1].v[0] != 0xFF)) return -1;
            Tlv inner;
            if (tlv_read(value->v, value->vlen, &inner) || inner.tlen != value->vlen) return -1;
            if (der_walk(value->v, value->vlen, 1, 1)) return -1;
            if (oid_is(&part[0], OID_BC, sizeof OID_BC)) {
                Tlv bc[3];
                int nb = children(&inner, bc, 3);
                if (inner.tag != 0x30 || nb < 0 || nb > 2) return -1;
                if (nb >= 1 && bc[0].tag == 0x01) {
                    if (bc[0].v[0] != 0xFF) return -1;   /* DEFAULT FALSE encoded */
                    f->is_ca = 1;
                }
            } else if (oid_is(&part[0], OID_SKI, sizeof OID_SKI)) {
                if (inner.tag != 0x04) return -1;
                ski = inner.v; ski_len = inner.vlen;
            } else if (oid_is(&part[0], OID_AKI, sizeof OID_AKI)) {
                Tlv ak[4];
                int nak = children(&inner, ak, 4);
                if (inner.tag != 0x30 || nak < 0) return -1;
                for (int k = 0; k < nak; k++)
                    if (ak[k].tag == 0x80) { aki = ak[k].v; aki_len = ak[k].vlen; }
            }
        }
    }
    int same = names_equal(subject, issuer);
    if (same < 0) return -1;
    f->self_signed = same && (aki == NULL ||
                              (ski != NULL && aki_len == ski_len && !memcmp(aki, ski, ski_len)));
    return 0;
}

/* --------------------------------------------------------------- base64 */

static int8_t B64[256];
static uint16_t B64PAIR[65536];   /* two characters -> 12 bits; 0x8000: not both base64 */
static uint16_t B64PAIR_LE[65536];  /* the same, indexed by the two bytes read little-endian */

static void b64_init(void)
{
    memset(B64, -1, sizeof B64);
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; i++) B64[(uint8_t)a[i]] = (int8_t)i;
    for (int i = 0; i < 65536; i++) {
        int8_t hi = B64[i >> 8], lo = B64[i & 0xFF];
        B64PAIR[i] = (hi < 0 || lo < 0) ? 0x8000 : (uint16_t)((hi << 6) | lo);
        B64PAIR_LE[((i & 0xFF) << 8) | (i >> 8)] = B64PAIR[i];
    }
}

/* Strict decode of base64 text: the alphabet and (with skip_newlines) line ends only, '='
 * padding at the very end. Decoding stops at the first '-' (the END line of a PEM block) or
 * at n; *stop gets where. Returns the decoded length, -1 on anything else (Python then
 * decides, leniently). *newlines gets the number of '\n' seen. Whole quads go through the
 * pair table; line ends and padding take the careful path. */
static Py_ssize_t b64_decode(const uint8_t *s, size_t n, uint8_t *out, int skip_newlines,
                             long long *newlines, size_t *stop)
{
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    size_t o = 0, chars = 0, i = 0;
    long long nl = 0;
    while (i < n) {
        if (bits == 0 && !pad) {
            /* eight characters (48 bits) a step; the output buffer is at least as long as
             * the input, so the 8-byte store stays inside it */
            while (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                uint32_t a = B64PAIR_LE[w & 0xFFFF], b = B64PAIR_LE[(w >> 16) & 0xFFFF];
                uint32_t c = B64PAIR_LE[(w >> 32) & 0xFFFF], d = B64PAIR_LE[w >> 48];
                if ((a | b | c | d) & 0x8000) break;
                uint64_t v = ((uint64_t)a << 36) | ((uint64_t)b << 24) | ((uint64_t)c << 12) | d;
                uint64_t be = __builtin_bswap64(v << 16);
                memcpy(out + o, &be, 8);
                o += 6; i += 8; chars += 8;
            }
            while (i + 4 <= n) {
                uint16_t x = B64PAIR[(s[i] << 8) | s[i + 1]], y = B64PAIR[(s[i + 2] << 8) | s[i + 3]];
                if ((x | y) & 0x8000) break;
                uint32_t v = ((uint32_t)x << 12) | y;
                out[o] = (uint8_t)(v >> 16); out[o + 1] = (uint8_t)(v >> 8); out[o + 2] = (uint8_t)v;
                o += 3; i += 4; chars += 4;
            }
            if (i >= n) break;
        }
        uint8_t c = s[i];
        if (c == '-') break;
        i++;
        if (skip_newlines && (c == '\n' || c == '\r')) { nl += c == '\n'; continue; }
        if (c == '=') { pad++; chars++; continue; }
        int8_t v = B64[c];
        if (v < 0 || pad) return -1;
        chars++;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) { bits -= 8; out[o++] = (uint8_t)(acc >> bits); }
        if (bits == 0) acc = 0;
    }
    *stop = i;
    if (chars == 0 || chars % 4 || pad > 2) return -1;
    if (newlines) *newlines = nl;
    return (Py_ssize_t)o;
}

/* --------------------------------------------------------------- output buffer */

typedef struct { uint8_t *p; size_t len, cap; } Buf;

static int buf_reserve(Buf *b, size_t extra)
{
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *p = PyMem_Realloc(b->p, cap);
    if (!p) { PyErr_NoMemory(); return -1; }
    b->p = p; b->cap = cap;
    return 0;
}

static inline void put(Buf *b, const void *s, size_t n) { memcpy(b->p + b->len, s, n); b->len += n; }
static inline void put_u32(Buf *b, uint32_t v) { memcpy(b->p + b->len, &v, 4); b->len += 4; }
static inline void put_u16(Buf *b, uint16_t v) { memcpy(b->p + b->len, &v, 2); b->len += 2; }

static size_t fmt_i64(char *o, int64_t v)
{
    char tmp[24];
    int n = 0, neg = v < 0;
    uint64_t u = neg ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    size_t k = 0;
    if (neg) o[k++] = '-';
    while (n) o[k++] = tmp[--n];
    return k;
}

static const char HEX[] = "0123456789abcdef";

static void hexify(const uint8_t *d, size_t n, char *o)
{
    for (size_t i = 0; i < n; i++) { o[2 * i] = HEX[d[i] >> 4]; o[2 * i + 1] = HEX[d[i] & 15]; }
}

static size_t fmt_time(char *o, const Time *t)
{
    /* "YYYY-MM-DDTHH:MM:SSZ" */
    o[0] = '"';
    o[1] = (char)('0' + t->y / 1000 % 10); o[2] = (char)('0' + t->y / 100 % 10);
    o[3] = (char)('0' + t->y / 10 % 10); o[4] = (char)('0' + t->y % 10);
    o[5] = '-'; o[6] = (char)('0' + t->mo / 10); o[7] = (char)('0' + t->mo % 10);
    o[8] = '-'; o[9] = (char)('0' + t->d / 10); o[10] = (char)('0' + t->d % 10);
    o[11] = 'T'; o[12] = (char)('0' + t->h / 10); o[13] = (char)('0' + t->h % 10);
    o[14] = ':'; o[15] = (char)('0' + t->mi / 10); o[16] = (char)('0' + t->mi % 10);
    o[17] = ':'; o[18] = (char)('0' + t->s / 10); o[19] = (char)('0' + t->s % 10);
    o[20] = 'Z'; o[21] = '"';
    return 22;
}

/* --------------------------------------------------------------- Scanner */

typedef struct {
    PyObject_HEAD
    PyObject *classes;          /* dict: class key bytes -> (local id, mid bytes) */
    int64_t *na_breaks, *nb_breaks, *span_breaks;
    Py_ssize_t n_na, n_nb, n_span;
    int span_exact;
    int force_doubt;            /* every certificate to the reader (settable per file) */
    PyObject *watch;            /* set of bytes, or NULL: a certificate whose SHA-256 (32 bytes)
                                   or asset id (its 8 bytes) is in it goes to the reader */
    PyObject *pieces;           /* tuple of N_PIECES bytes: the certificate line around its
                                   values, cut from the wire format (bulk/lines.py) */
    size_t pieces_len;          /* their total length */
    /* file state */
    PyObject *path_json;        /* bytes: the path as a JSON string, quotes included */
    PyObject *path_raw;         /* bytes: the path as UTF-8 (asset ids hash it) */
    long long index, line, base;
    int check_gap, check_edges, gap_done, seen_block, report_text;
    long long prev_end;         /* absolute offset of the end of the last complete block, -1 */
    /* pending certificate for Python (miss / doubt) */
    Py_ssize_t pend_start, pend_end;
    PyObject *pend_der;
    PyObject *pend_key;
    Buf out;                   /* meta records */
    Buf lines;
    uint8_t *der;               /* scratch for decoded DER */
    size_t der_cap;
} Scanner;

static int load_breaks(PyObject *seq, int64_t **out, Py_ssize_t *n)
{
    PyObject *fast = PySequence_Fast(seq, "breakpoints must be a sequence");
    if (!fast) return -1;
    *n = PySequence_Fast_GET_SIZE(fast);
    *out = PyMem_Malloc(sizeof(int64_t) * (size_t)(*n + 1));
    if (!*out) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    for (Py_ssize_t i = 0; i < *n; i++) {
        (*out)[i] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(fast, i));
        if ((*out)[i] == -1 && PyErr_Occurred()) { Py_DECREF(fast); return -1; }
    }
    Py_DECREF(fast);
    return 0;
}

/* The pieces of a certificate line: before the id's hash, before the SHA-256, the path, the
   index, the line and the offset; after notBefore (before notAfter); and the end. */
#define N_PIECES 8

static int Scanner_init(Scanner *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"classes", "na_breaks", "nb_breaks", "span_breaks", "force_doubt",
                            "pieces", NULL};
    PyObject *classes, *na, *nb, *lb, *pieces = NULL;
    int force = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!OOO|pO!", names, &PyDict_Type, &classes,
                                     &na, &nb, &lb, &force, &PyTuple_Type, &pieces)) return -1;
    if (!pieces || PyTuple_GET_SIZE(pieces) != N_PIECES) {
        PyErr_SetString(PyExc_TypeError, "pieces: a tuple of 8 bytes is required");
        return -1;
    }
    self->pieces_len = 0;
    for (Py_ssize_t i = 0; i < N_PIECES; i++) {
        if (!PyBytes_Check(PyTuple_GET_ITEM(pieces, i))) {
            PyErr_SetString(PyExc_TypeError, "pieces must be bytes");
            return -1;
        }
        self->pieces_len += (size_t)PyBytes_GET_SIZE(PyTuple_GET_ITEM(pieces, i));
    }
    Py_INCREF(pieces);
    Py_XSETREF(self->pieces, pieces);
    Py_INCREF(classes);
    Py_XSETREF(self->classes, classes);
    if (load_breaks(na, &self->na_breaks, &self->n_na)) return -1;
    if (load_breaks(nb, &self->nb_breaks, &self->n_nb)) return -1;
    self->span_exact = lb == Py_None;
    if (!self->span_exact && load_breaks(lb, &self->span_breaks, &self->n_span)) return -1;
    self->force_doubt = force;
    self->prev_end = -1;
    Py_INCREF(Py_None); self->pend_der = Py_None;
    Py_INCREF(Py_None); self->pend_key = Py_None;
    self->path_json = PyBytes_FromString("\"-\"");
    self->path_raw = PyBytes_FromString("-");
    return self->path_json && self->path_raw ? 0 : -1;
}

static void Scanner_dealloc(Scanner *self)
{
    Py_XDECREF(self->classes);
    Py_XDECREF(self->pieces);
    Py_XDECREF(self->watch);
    Py_XDECREF(self->path_json);
    Py_XDECREF(self->path_raw);
    Py_XDECREF(self->pend_der);
    Py_XDECREF(self->pend_key);
    PyMem_Free(self->na_breaks); PyMem_Free(self->nb_breaks); PyMem_Free(self->span_breaks);
    PyMem_Free(self->out.p);
    PyMem_Free(self->lines.p);
    PyMem_Free(self->der);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static Py_ssize_t bucket(const int64_t *b, Py_ssize_t n, int64_t x)
{
    Py_ssize_t lo = 0, hi = n;      /* bisect_right */
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (x < b[mid]) hi = mid; else lo = mid + 1;
    }
    return lo;
}

enum { NEED_MORE = 0, DONE = 1, BLOCK = 2, MISS = 3, DOUBT = 4, GAP = 5, TAIL = 6, TEXT = 7 };

static const char BEGIN[] = "-----BEGIN ";
static const char CERT_BEGIN[] = "-----BEGIN CERTIFICATE-----";
static const char CERT_END[] = "-----END CERTIFICATE-----";

/* Position of the next BEGIN line the Python regex would match, from pos; -1 if none.
 * *label_end gets the offset just past its closing dashes. */
static Py_ssize_t find_begin(const uint8_t *d, Py_ssize_t n, Py_ssize_t pos, Py_ssize_t *label_end)
{
    while (pos < n) {
        const uint8_t *hit = memmem(d + pos, (size_t)(n - pos), BEGIN, 11);
        if (!hit) return -1;
        Py_ssize_t at = hit - d, k = at + 11;
        Py_ssize_t start = k;
        int ok = k < n && ((d[k] >= 'A' && d[k] <= 'Z') || (d[k] >= '0' && d[k] <= '9'));
        if (ok) {
            k++;
            while (k < n && k - start < 63 &&
                   ((d[k] >= 'A' && d[k] <= 'Z') || (d[k] >= '0' && d[k] <= '9') ||
                    d[k] == ' ' || d[k] == '#')) k++;
            /* regex backtracking: the label may end earlier if a run of dashes follows */
            if (k + 5 <= n && memcmp(d + k, "-----", 5) == 0) {
                *label_end = k + 5;
                return at;
            }
            if (k >= n) { *label_end = -1; return at; }   /* cut by the buffer: ask for more */
        }
        pos = at + 1;
    }
    return -1;
}

static long long count_nl(const uint8_t *d, Py_ssize_t a, Py_ssize_t b)
{
    long long c = 0;
    const uint8_t *p = d + a, *e = d + b;
    while (p < e) {
        const uint8_t *q = memchr(p, '\n', (size_t)(e - p));
        if (!q) break;
        c++;
        p = q + 1;
    }
    return c;
}

static int suspicious(const uint8_t *d, Py_ssize_t a, Py_ssize_t b)
{
    for (Py_ssize_t i = a; i < b; i++) {
        uint8_t c = d[i];
        if (c >= 0x80 || c == 0x7F || (c < 0x20 && !(c >= 0x09 && c <= 0x0D))) return 1;
    }
    return 0;
}

static int nonblank(const uint8_t *d, Py_ssize_t a, Py_ssize_t b)
{
    for (Py_ssize_t i = a; i < b; i++)
        if (d[i] != '\n' && d[i] != '\r' && d[i] != ' ' && d[i] != '\t') return 1;
    return 0;
}

static void set_pending(Scanner *self, Py_ssize_t start, Py_ssize_t end, const uint8_t *der,
                        Py_ssize_t n, PyObject *key)
{
    self->pend_start = start;
    self->pend_end = end;
    Py_XSETREF(self->pend_der, der ? PyBytes_FromStringAndSize((const char *)der, n) : Py_NewRef(Py_None));
    Py_XSETREF(self->pend_key, key ? key : Py_NewRef(Py_None));
}

/* Decide and render one decoded certificate. 0 rendered, MISS or DOUBT, -1 error. */
static int render(Scanner *self, const uint8_t *der, size_t n, long long line, long long offset,
                  PyObject **miss_key)
{
    *miss_key = NULL;
    Facts f;
    if (self->force_doubt || parse_cert(der, n, &f)) return DOUBT;
    uint8_t keybuf[400];
    size_t k = 0;
    keybuf[k++] = (uint8_t)f.sigalg_len; memcpy(keybuf + k, f.sigalg, f.sigalg_len); k += f.sigalg_len;
    keybuf[k++] = (uint8_t)f.keyalg_len; memcpy(keybuf + k, f.keyalg, f.keyalg_len); k += f.keyalg_len;
    /* Only the span is measured here: what a lifetime in days is, is defined once in Python
       (sources/files/validity.py), and the span breakpoints handed in are derived from it. */
    int64_t span = f.na.epoch - f.nb.epoch;
    int64_t nums[6] = {f.key_bits, f.is_ca, f.self_signed,
                       bucket(self->na_breaks, self->n_na, f.na.epoch),
                       bucket(self->nb_breaks, self->n_nb, f.nb.epoch),
                       self->span_exact ? span : bucket(self->span_breaks, self->n_span, span)};
    memcpy(keybuf + k, nums, sizeof nums); k += sizeof nums;
    PyObject *key = PyBytes_FromStringAndSize((const char *)keybuf, (Py_ssize_t)k);
    if (!key) return -1;
    PyObject *cls = PyDict_GetItemWithError(self->classes, key);
    if (!cls) {
        if (PyErr_Occurred()) { Py_DECREF(key); return -1; }
        *miss_key = key;         /* set_pending by the caller takes this reference */
        return MISS;
    }
    Py_DECREF(key);
    long local = PyLong_AsLong(PyTuple_GET_ITEM(cls, 0));
    PyObject *mid = PyTuple_GET_ITEM(cls, 1);

    uint8_t digest[32];
    sha256(der, n, digest);
    char fp[64];
    hexify(digest, 32, fp);
    /* asset id: sha256(f"{path}#{index}#{fingerprint}")[:16], as sources.context.asset_id */
    Py_ssize_t plen = PyBytes_GET_SIZE(self->path_raw);
    uint8_t idsrc_stack[512];
    size_t need = (size_t)plen + 24 + 2 + 64;
    uint8_t *idsrc = need <= sizeof idsrc_stack ? idsrc_stack : PyMem_Malloc(need);
    if (!idsrc) { PyErr_NoMemory(); return -1; }
    size_t m = 0;
    memcpy(idsrc, PyBytes_AS_STRING(self->path_raw), (size_t)plen); m += (size_t)plen;
    idsrc[m++] = '#';
    m += fmt_i64((char *)idsrc + m, self->index);
    idsrc[m++] = '#';
    memcpy(idsrc + m, fp, 64); m += 64;
    uint8_t idd[32];
    sha256(idsrc, m, idd);
    if (idsrc != idsrc_stack) PyMem_Free(idsrc);
    if (self->watch) {
        /* Named by a waiver: the reader judges it (nothing is written yet). */
        int hit = 0;
        for (int w = 0; w < 2 && !hit; w++) {
            PyObject *probe = PyBytes_FromStringAndSize((const char *)(w ? idd : digest),
                                                        w ? 8 : 32);
            if (!probe) return -1;
            hit = PySet_Contains(self->watch, probe);
            Py_DECREF(probe);
            if (hit < 0) return -1;
        }
        if (hit) return DOUBT;
    }

    Py_ssize_t pj = PyBytes_GET_SIZE(self->path_json), ml = PyBytes_GET_SIZE(mid);
    size_t cap = 300 + self->pieces_len + (size_t)pj + (size_t)ml;
    if (buf_reserve(&self->out, 43) || buf_reserve(&self->lines, cap)) return -1;
    Buf *meta = &self->out;
    meta->p[meta->len++] = 1;
    put(meta, digest, 32);
    put_u32(meta, (uint32_t)local);
    put_u16(meta, (uint16_t)((f.na.y - 1900) * 12 + f.na.mo - 1));
    Buf *b = &self->lines;
    size_t start = b->len;
    /* The line is the wire format's (bulk/lines.py cuts it): only the values are made here. */
    PyObject *const *pc = &PyTuple_GET_ITEM(self->pieces, 0);
#define PUT_PIECE(i) put(b, PyBytes_AS_STRING(pc[i]), (size_t)PyBytes_GET_SIZE(pc[i]))
    PUT_PIECE(0);
    hexify(idd, 8, (char *)b->p + b->len); b->len += 16;
    PUT_PIECE(1);
    put(b, fp, 64);
    PUT_PIECE(2);
    put(b, PyBytes_AS_STRING(self->path_json), (size_t)pj);
    PUT_PIECE(3);
    b->len += fmt_i64((char *)b->p + b->len, self->index);
    PUT_PIECE(4);
    if (line >= 0) b->len += fmt_i64((char *)b->p + b->len, line);
    else put(b, "null", 4);
    PUT_PIECE(5);
    b->len += fmt_i64((char *)b->p + b->len, offset);
    put(b, PyBytes_AS_STRING(mid), (size_t)ml);
    b->len += fmt_time((char *)b->p + b->len, &f.nb);
    PUT_PIECE(6);
    b->len += fmt_time((char *)b->p + b->len, &f.na);
    PUT_PIECE(7);
#undef PUT_PIECE
    put_u32(meta, (uint32_t)(b->len - start));
    self->index++;
    return 0;
}

static int ensure_der(Scanner *self, size_t n)
{
    if (n <= self->der_cap) return 0;
    uint8_t *p = PyMem_Realloc(self->der, n);
    if (!p) { PyErr_NoMemory(); return -1; }
    self->der = p; self->der_cap = n;
    return 0;
}

/* scan_pem(data, pos, final) -> (code, pos). Lines are counted up to the returned pos. */
static PyObject *Scanner_scan_pem(Scanner *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t pos;
    int final;
    if (!PyArg_ParseTuple(args, "y*np", &view, &pos, &final)) return NULL;
    const uint8_t *d = view.buf;
    Py_ssize_t n = view.len;
    int code = DONE;
    while (1) {
        Py_ssize_t label_end;
        Py_ssize_t at = find_begin(d, n, pos, &label_end);
        if (at < 0 || label_end < 0) {
            if (!final) {
                /* keep a tail that could hold the start of a BEGIN line */
                Py_ssize_t keep = at >= 0 ? at : (n - 80 > pos ? n - 80 : pos);
                if (keep > pos && !self->gap_done && self->check_gap &&
                    suspicious(d, pos, keep)) {
                    /* report the gap when its BEGIN shows up; do not advance */
                    keep = pos;
                }
                self->line += count_nl(d, pos, keep);
                pos = keep;
                code = NEED_MORE;
                break;
            }
            if (at >= 0) {   /* a BEGIN cut at the very end of the input: Python decides */
                self->line += count_nl(d, pos, at);
                pos = at; code = BLOCK; break;
            }
            if (self->report_text && !self->gap_done && nonblank(d, pos, n)) {
                set_pending(self, pos, n, NULL, 0, NULL);
                code = TEXT; break;
            }
            if (self->check_edges && self->prev_end >= 0 && suspicious(d, pos, n)) {
                code = TAIL; break;
            }
            self->line += count_nl(d, pos, n);
            pos = n; code = DONE;
            break;
        }
        if (!self->gap_done && self->check_gap && suspicious(d, pos, at)) {
            self->line += count_nl(d, pos, at);
            set_pending(self, pos, at, NULL, 0, NULL);
            pos = at; code = GAP;
            break;
        }
        if (!self->gap_done && self->report_text && nonblank(d, pos, at)) {
            self->line += count_nl(d, pos, at);
            set_pending(self, pos, at, NULL, 0, NULL);
            pos = at; code = TEXT;
            break;
        }
        self->gap_done = 0;
        self->line += count_nl(d, pos, at);
        pos = at;
        if (label_end - at != (Py_ssize_t)sizeof CERT_BEGIN - 1 ||
            memcmp(d + at, CERT_BEGIN, sizeof CERT_BEGIN - 1) != 0) {
            code = BLOCK; break;
        }
        /* Decode up to the first '-': it must start our END line, else Python decides
         * (another BEGIN before the END is a truncated block; odd text is its business). */
        size_t lim = (size_t)(n - label_end), cap = (size_t)1 << 22;
        int capped = lim > cap;
        if (capped) lim = cap;   /* a body this long is for Python */
        if (ensure_der(self, lim)) { PyBuffer_Release(&view); return NULL; }
        long long body_nl = 0;
        size_t stop = 0;
        Py_ssize_t dn = b64_decode(d + label_end, lim, self->der, 1, &body_nl, &stop);
        Py_ssize_t body_end = label_end + (Py_ssize_t)stop;
        if (capped && stop >= lim) { code = BLOCK; break; }
        if (body_end >= n || n - body_end < (Py_ssize_t)sizeof CERT_END - 1) {
            /* no '-' (or not a whole END line) before the end of the buffer */
            if (!final) { code = NEED_MORE; break; }
            code = BLOCK; break;
        }
        if (dn < 0 || memcmp(d + body_end, CERT_END, sizeof CERT_END - 1) != 0) {
            code = BLOCK; break;
        }
        Py_ssize_t next = body_end + (Py_ssize_t)sizeof CERT_END - 1;
        PyObject *key = NULL;
        int r = render(self, self->der, (size_t)dn, self->line, self->base + at, &key);
        if (r < 0) { PyBuffer_Release(&view); return NULL; }
        if (r == MISS || r == DOUBT) {
            set_pending(self, at, next, self->der, dn, key);
            code = r;
            break;
        }
        self->line += body_nl;      /* the BEGIN and END lines hold no line end */
        pos = next;
        self->prev_end = self->base + next;
        self->check_gap = 1;
        self->seen_block = 1;
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("in", code, pos);
}

/* scan_der(der, line, offset) -> code: 0 rendered, MISS, DOUBT (pending set) */
static PyObject *Scanner_scan_der(Scanner *self, PyObject *args)
{
    Py_buffer view;
    long long line, offset;
    if (!PyArg_ParseTuple(args, "y*LL", &view, &line, &offset)) return NULL;
    PyObject *key = NULL;
    int r = render(self, view.buf, (size_t)view.len, line, offset, &key);
    if (r == MISS || r == DOUBT) {
        set_pending(self, 0, view.len, view.buf, view.len, key);
    }
    PyBuffer_Release(&view);
    if (r < 0) return NULL;
    return PyLong_FromLong(r);
}

/* scan_lines(data, pos, final) -> (code, pos): one base64 DER per line. */
static PyObject *Scanner_scan_lines(Scanner *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t pos;
    int final;
    if (!PyArg_ParseTuple(args, "y*np", &view, &pos, &final)) return NULL;
    const uint8_t *d = view.buf;
    Py_ssize_t n = view.len;
    int code = DONE;
    while (pos < n) {
        const uint8_t *nl = memchr(d + pos, '\n', (size_t)(n - pos));
        if (!nl && !final) { code = NEED_MORE; break; }
        Py_ssize_t end = nl ? nl - d : n;
        Py_ssize_t stop = end;
        while (stop > pos && (d[stop - 1] == '\r' || d[stop - 1] == ' ' || d[stop - 1] == '\t')) stop--;
        Py_ssize_t next = nl ? end + 1 : n;
        if (stop == pos) {   /* blank line */
            self->line++;
            pos = next;
            continue;
        }
        if (ensure_der(self, (size_t)(stop - pos))) { PyBuffer_Release(&view); return NULL; }
        size_t upto = 0;
        Py_ssize_t dn = b64_decode(d + pos, (size_t)(stop - pos), self->der, 0, NULL, &upto);
        if (upto != (size_t)(stop - pos)) dn = -1;
        if (dn < 0) { code = BLOCK; break; }
        PyObject *key = NULL;
        int r = render(self, self->der, (size_t)dn, self->line, self->base + pos, &key);
        if (r < 0) { PyBuffer_Release(&view); return NULL; }
        if (r == MISS || r == DOUBT) {
            set_pending(self, pos, next, self->der, dn, key);
            code = r;
            break;
        }
        self->line++;
        pos = next;
    }
    if (pos >= n && code == NEED_MORE) code = NEED_MORE;
    else if (pos >= n) code = final ? DONE : NEED_MORE;
    PyBuffer_Release(&view);
    return Py_BuildValue("in", code, pos);
}

static PyObject *Scanner_pending(Scanner *self, PyObject *unused)
{
    return Py_BuildValue("nnOO", self->pend_start, self->pend_end, self->pend_der, self->pend_key);
}

/* set_file(path_json, path_raw, check_edges) */
static PyObject *Scanner_set_file(Scanner *self, PyObject *args)
{
    PyObject *pj, *pr;
    int edges;
    if (!PyArg_ParseTuple(args, "SSp", &pj, &pr, &edges)) return NULL;
    Py_INCREF(pj); Py_XSETREF(self->path_json, pj);
    Py_INCREF(pr); Py_XSETREF(self->path_raw, pr);
    self->index = 0; self->line = 1; self->base = 0;
    self->check_edges = edges; self->check_gap = edges; self->gap_done = 0;
    self->prev_end = -1; self->seen_block = 0; self->report_text = 0;
    Py_RETURN_NONE;
}

static PyObject *Scanner_append_raw(Scanner *self, PyObject *args)
{
    Py_buffer v;
    if (!PyArg_ParseTuple(args, "y*", &v)) return NULL;
    if (buf_reserve(&self->out, 5) || buf_reserve(&self->lines, (size_t)v.len)) {
        PyBuffer_Release(&v); return NULL;
    }
    self->out.p[self->out.len++] = 2;
    put_u32(&self->out, (uint32_t)v.len);
    put(&self->lines, v.buf, (size_t)v.len);
    PyBuffer_Release(&v);
    Py_RETURN_NONE;
}

/* append_cert(digest, local_class, month, line) */
static PyObject *Scanner_append_cert(Scanner *self, PyObject *args)
{
    Py_buffer dg, v;
    unsigned int cls, month;
    if (!PyArg_ParseTuple(args, "y*IIy*", &dg, &cls, &month, &v)) return NULL;
    if (dg.len != 32 || buf_reserve(&self->out, 43) || buf_reserve(&self->lines, (size_t)v.len)) {
        PyBuffer_Release(&dg); PyBuffer_Release(&v);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "digest must be 32 bytes");
        return NULL;
    }
    self->out.p[self->out.len++] = 1;
    put(&self->out, dg.buf, 32);
    put_u32(&self->out, cls);
    put_u16(&self->out, (uint16_t)month);
    put_u32(&self->out, (uint32_t)v.len);
    put(&self->lines, v.buf, (size_t)v.len);
    PyBuffer_Release(&dg); PyBuffer_Release(&v);
    Py_RETURN_NONE;
}

static PyObject *Scanner_take(Scanner *self, PyObject *unused)
{
    PyObject *r = Py_BuildValue("NN",
        PyBytes_FromStringAndSize((const char *)self->out.p, (Py_ssize_t)self->out.len),
        PyBytes_FromStringAndSize((const char *)self->lines.p, (Py_ssize_t)self->lines.len));
    self->out.len = 0;
    self->lines.len = 0;
    return r;
}

/* take_into(buffer, offset, limit, meta_offset, meta_end) -> (lines length, meta length), or
 * -1 when the entries do not fit: the lines are copied into buffer[offset:limit] and the meta
 * records into buffer[meta_offset:meta_end] (a worker's shared slab), without making bytes
 * objects of them; nothing is taken when they do not fit. */
static PyObject *Scanner_take_into(Scanner *self, PyObject *args)
{
    Py_buffer b;
    Py_ssize_t offset, limit, meta_offset, meta_end;
    if (!PyArg_ParseTuple(args, "w*nnnn", &b, &offset, &limit, &meta_offset, &meta_end))
        return NULL;
    if (offset < 0 || limit < offset || limit > b.len || meta_offset < 0 ||
        meta_end < meta_offset || meta_end > b.len ||
        (meta_offset < limit && offset < meta_end) ||
        (size_t)(limit - offset) < self->lines.len ||
        (size_t)(meta_end - meta_offset) < self->out.len) {
        PyBuffer_Release(&b);
        return PyLong_FromLong(-1);
    }
    if (self->lines.len) memcpy((char *)b.buf + offset, self->lines.p, self->lines.len);
    if (self->out.len) memcpy((char *)b.buf + meta_offset, self->out.p, self->out.len);
    PyBuffer_Release(&b);
    PyObject *r = Py_BuildValue("nn", (Py_ssize_t)self->lines.len, (Py_ssize_t)self->out.len);
    self->out.len = 0;
    self->lines.len = 0;
    return r;
}

static PyObject *Scanner_truncate(Scanner *self, PyObject *args)
{
    Py_ssize_t n, m;
    if (!PyArg_ParseTuple(args, "nn", &n, &m)) return NULL;
    if (n >= 0 && (size_t)n < self->out.len) self->out.len = (size_t)n;
    if (m >= 0 && (size_t)m < self->lines.len) self->lines.len = (size_t)m;
    Py_RETURN_NONE;
}

static PyObject *Scanner_pending_size(Scanner *self, PyObject *unused)
{
    return PyLong_FromSize_t(self->out.len + self->lines.len);
}

static PyObject *Scanner_mark(Scanner *self, PyObject *unused)
{
    return Py_BuildValue("nn", (Py_ssize_t)self->out.len, (Py_ssize_t)self->lines.len);
}

#define INTFIELD(name) \
    static PyObject *get_##name(Scanner *s, void *c) { return PyLong_FromLongLong(s->name); } \
    static int set_##name(Scanner *s, PyObject *v, void *c) { \
        long long x = PyLong_AsLongLong(v); if (x == -1 && PyErr_Occurred()) return -1; \
        s->name = x; return 0; }
INTFIELD(index)
INTFIELD(line)
INTFIELD(base)
INTFIELD(prev_end)
#define BOOLFIELD(name) \
    static PyObject *get_##name(Scanner *s, void *c) { return PyBool_FromLong(s->name); } \
    static int set_##name(Scanner *s, PyObject *v, void *c) { \
        int x = PyObject_IsTrue(v); if (x < 0) return -1; s->name = x; return 0; }
BOOLFIELD(check_gap)
BOOLFIELD(gap_done)
BOOLFIELD(check_edges)
BOOLFIELD(report_text)
BOOLFIELD(force_doubt)

static PyObject *get_watch(Scanner *s, void *c)
{
    if (!s->watch) Py_RETURN_NONE;
    Py_INCREF(s->watch);
    return s->watch;
}

static int set_watch(Scanner *s, PyObject *v, void *c)
{
    if (v != NULL && v != Py_None && !PyAnySet_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "watch must be a set of bytes or None");
        return -1;
    }
    PyObject *keep = v == Py_None ? NULL : v;
    Py_XINCREF(keep);
    Py_XSETREF(s->watch, keep);
    return 0;
}

static PyGetSetDef Scanner_getset[] = {
    {"index", (getter)get_index, (setter)set_index, NULL, NULL},
    {"line", (getter)get_line, (setter)set_line, NULL, NULL},
    {"base", (getter)get_base, (setter)set_base, NULL, NULL},
    {"prev_end", (getter)get_prev_end, (setter)set_prev_end, NULL, NULL},
    {"check_gap", (getter)get_check_gap, (setter)set_check_gap, NULL, NULL},
    {"gap_done", (getter)get_gap_done, (setter)set_gap_done, NULL, NULL},
    {"check_edges", (getter)get_check_edges, (setter)set_check_edges, NULL, NULL},
    {"report_text", (getter)get_report_text, (setter)set_report_text, NULL, NULL},
    {"force_doubt", (getter)get_force_doubt, (setter)set_force_doubt, NULL, NULL},
    {"watch", (getter)get_watch, (setter)set_watch, NULL, NULL},
    {NULL}
};

static PyMethodDef Scanner_methods[] = {
    {"scan_pem", (PyCFunction)Scanner_scan_pem, METH_VARARGS, "Scan PEM text."},
    {"scan_der", (PyCFunction)Scanner_scan_der, METH_VARARGS, "Judge one DER certificate."},
    {"scan_lines", (PyCFunction)Scanner_scan_lines, METH_VARARGS, "Scan base64-per-line text."},
    {"pending", (PyCFunction)Scanner_pending, METH_NOARGS, "(start, end, der, key) of the held certificate."},
    {"set_file", (PyCFunction)Scanner_set_file, METH_VARARGS, "Start a new file."},
    {"append_raw", (PyCFunction)Scanner_append_raw, METH_VARARGS, "Append a raw line entry."},
    {"append_cert", (PyCFunction)Scanner_append_cert, METH_VARARGS, "Append a certificate entry."},
    {"take", (PyCFunction)Scanner_take, METH_NOARGS, "(meta, lines) so far, and clear them."},
    {"take_into", (PyCFunction)Scanner_take_into, METH_VARARGS,
     "Copy (lines, meta) into a writable buffer: their lengths, or -1 when they do not fit."},
    {"buffered", (PyCFunction)Scanner_pending_size, METH_NOARGS, "Bytes of entries held."},
    {"truncate", (PyCFunction)Scanner_truncate, METH_VARARGS, "Drop the entries after a mark."},
    {"mark", (PyCFunction)Scanner_mark, METH_NOARGS, "Where the entries end now (for truncate)."},
    {NULL}
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cryptocheck.bulk._fastcert.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
    .tp_getset = Scanner_getset,
};

/* --------------------------------------------------------------- Merger: dedup and counts */

typedef struct {
    PyObject_HEAD
    uint8_t *keys;          /* cap * 32 */
    uint32_t *counts;       /* cap; 0 = empty */
    size_t cap, used;
    int dedup;
    long long unique, duplicates;
    long long *class_counts; size_t n_class;
    long long months[4096];
} Merger;

static int Merger_init(Merger *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"dedup", "expected", NULL};
    int dedup = 1;
    Py_ssize_t expected = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|pn", names, &dedup, &expected)) return -1;
    self->dedup = dedup;
    /* sized for the certificates expected (no rehash on the way), within reason */
    self->cap = 1 << 16;
    while (self->cap < ((size_t)1 << 21) && (size_t)expected * 10 > self->cap * 7) self->cap *= 2;
    self->keys = PyMem_Calloc(self->cap, 32);
    self->counts = PyMem_Calloc(self->cap, 4);
    if (!self->keys || !self->counts) { PyErr_NoMemory(); return -1; }
    return 0;
}

static void Merger_dealloc(Merger *self)
{
    PyMem_Free(self->keys); PyMem_Free(self->counts); PyMem_Free(self->class_counts);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static inline size_t slot_of(const uint8_t *k, size_t cap)
{
    uint64_t h;
    memcpy(&h, k, 8);
    return (size_t)(h & (cap - 1));
}

static int grow(Merger *self)
{
    size_t cap = self->cap * 2;
    uint8_t *keys = PyMem_Calloc(cap, 32);
    uint32_t *counts = PyMem_Calloc(cap, 4);
    if (!keys || !counts) { PyMem_Free(keys); PyMem_Free(counts); PyErr_NoMemory(); return -1; }
    for (size_t i = 0; i < self->cap; i++) {
        if (!self->counts[i]) continue;
        size_t s = slot_of(self->keys + 32 * i, cap);
        while (counts[s]) s = (s + 1) & (cap - 1);
        memcpy(keys + 32 * s, self->keys + 32 * i, 32);
        counts[s] = self->counts[i];
    }
    PyMem_Free(self->keys); PyMem_Free(self->counts);
    self->keys = keys; self->counts = counts; self->cap = cap;
    return 0;
}

/* 1 new, 0 seen before, -1 error */
static int seen_add(Merger *self, const uint8_t *k)
{
    if ((self->used + 1) * 10 > self->cap * 7 && grow(self)) return -1;
    size_t s = slot_of(k, self->cap);
    while (self->counts[s]) {
        if (!memcmp(self->keys + 32 * s, k, 32)) { self->counts[s]++; return 0; }
        s = (s + 1) & (self->cap - 1);
    }
    memcpy(self->keys + 32 * s, k, 32);
    self->counts[s] = 1;
    self->used++;
    return 1;
}

/* merge(meta, class_map) -> None when every line is kept, else a mask (1 keep, 0 drop) with
 * one byte per entry. Counts classes and expiry months of the certificates kept. */
static PyObject *Merger_merge(Merger *self, PyObject *args)
{
    Py_buffer v;
    PyObject *map;
    if (!PyArg_ParseTuple(args, "y*O", &v, &map)) return NULL;
    PyObject *fast = PySequence_Fast(map, "class_map must be a sequence");
    if (!fast) { PyBuffer_Release(&v); return NULL; }
    Py_ssize_t nmap = PySequence_Fast_GET_SIZE(fast);
    Buf mask = {0};
    size_t entries = 0;
    const uint8_t *p = v.buf, *e = p + v.len;
    /* The table is far larger than the caches: fetch the slots of the certificates a few
     * entries ahead so that their misses overlap. */
    const uint8_t *ahead = p;
    for (int k = 0; k < 8 && ahead < e; k++) ahead += *ahead == 2 ? 5 : 43;
    while (p < e) {
        if (self->dedup && ahead < e) {
            if (*ahead == 1) {
                size_t slot = slot_of(ahead + 1, self->cap);
                __builtin_prefetch(self->keys + 32 * slot);
                __builtin_prefetch(self->counts + slot);
            }
            ahead += *ahead == 2 ? 5 : 43;
        }
        uint8_t kind = *p++;
        int keep = 1;
        if (kind == 2) {
            p += 4;
        } else {
            const uint8_t *dg = p; p += 32;
            uint32_t cls; memcpy(&cls, p, 4); p += 4;
            uint16_t month; memcpy(&month, p, 2); p += 2;
            p += 4;
            if (self->dedup) {
                keep = seen_add(self, dg);
                if (keep < 0) goto fail;
            }
            if (keep) {
                self->unique++;
                if ((Py_ssize_t)cls >= nmap) { PyErr_SetString(PyExc_IndexError, "class not mapped"); goto fail; }
                long g = PyLong_AsLong(PySequence_Fast_GET_ITEM(fast, cls));
                if (g < 0) { if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad class"); goto fail; }
                if ((size_t)g >= self->n_class) {
                    size_t nc = (size_t)g * 2 + 16;
                    long long *cc = PyMem_Realloc(self->class_counts, nc * sizeof(long long));
                    if (!cc) { PyErr_NoMemory(); goto fail; }
                    memset(cc + self->n_class, 0, (nc - self->n_class) * sizeof(long long));
                    self->class_counts = cc; self->n_class = nc;
                }
                self->class_counts[g]++;
                if (month < 4096) self->months[month]++;
            } else {
                self->duplicates++;
                if (!mask.p) {   /* first drop: every entry so far was kept */
                    if (buf_reserve(&mask, entries + 1)) goto fail;
                    memset(mask.p, 1, entries);
                    mask.len = entries;
                }
            }
        }
        if (mask.p) {
            if (buf_reserve(&mask, 1)) goto fail;
            mask.p[mask.len++] = (uint8_t)keep;
        }
        entries++;
    }
    Py_DECREF(fast);
    PyBuffer_Release(&v);
    if (!mask.p) Py_RETURN_NONE;
    PyObject *r = PyBytes_FromStringAndSize((const char *)mask.p, (Py_ssize_t)mask.len);
    PyMem_Free(mask.p);
    return r;
fail:
    Py_DECREF(fast);
    PyBuffer_Release(&v);
    PyMem_Free(mask.p);
    return NULL;
}

/* filter_lines(meta, lines, mask) -> the lines whose mask byte is 1 */
static PyObject *filter_lines(PyObject *mod, PyObject *args)
{
    Py_buffer m, l, k;
    if (!PyArg_ParseTuple(args, "y*y*y*", &m, &l, &k)) return NULL;
    Buf out = {0};
    PyObject *r = NULL;
    if (buf_reserve(&out, (size_t)l.len + 1)) goto done;
    const uint8_t *p = m.buf, *e = p + m.len, *line = l.buf, *mask = k.buf;
    size_t i = 0;
    while (p < e) {
        uint8_t kind = *p++;
        if (kind == 1) p += 38;
        uint32_t len; memcpy(&len, p, 4); p += 4;
        if ((Py_ssize_t)i < k.len && mask[i]) put(&out, line, len);
        line += len;
        i++;
    }
    r = PyBytes_FromStringAndSize((const char *)out.p, (Py_ssize_t)out.len);
done:
    PyMem_Free(out.p);
    PyBuffer_Release(&m); PyBuffer_Release(&l); PyBuffer_Release(&k);
    return r;
}

static PyObject *Merger_counts(Merger *self, PyObject *unused)
{
    PyObject *classes = PyDict_New(), *months = PyDict_New();
    if (!classes || !months) goto fail;
    for (size_t i = 0; i < self->n_class; i++) {
        if (!self->class_counts[i]) continue;
        PyObject *k = PyLong_FromSize_t(i), *c = PyLong_FromLongLong(self->class_counts[i]);
        if (!k || !c || PyDict_SetItem(classes, k, c)) { Py_XDECREF(k); Py_XDECREF(c); goto fail; }
        Py_DECREF(k); Py_DECREF(c);
    }
    for (int i = 0; i < 4096; i++) {
        if (!self->months[i]) continue;
        PyObject *k = PyLong_FromLong(i), *c = PyLong_FromLongLong(self->months[i]);
        if (!k || !c || PyDict_SetItem(months, k, c)) { Py_XDECREF(k); Py_XDECREF(c); goto fail; }
        Py_DECREF(k); Py_DECREF(c);
    }
    return Py_BuildValue("NNLL", classes, months, self->unique, self->duplicates);
fail:
    Py_XDECREF(classes); Py_XDECREF(months);
    return NULL;
}

/* repeated() -> list of (digest, count) seen more than once, in table order */
static PyObject *Merger_repeated(Merger *self, PyObject *unused)
{
    PyObject *list = PyList_New(0);
    if (!list) return NULL;
    for (size_t i = 0; i < self->cap; i++) {
        if (self->counts[i] < 2) continue;
        PyObject *t = Py_BuildValue("y#I", (const char *)(self->keys + 32 * i), (Py_ssize_t)32,
                                    self->counts[i]);
        if (!t || PyList_Append(list, t)) { Py_XDECREF(t); Py_DECREF(list); return NULL; }
        Py_DECREF(t);
    }
    return list;
}

static PyMethodDef Merger_methods[] = {
    {"merge", (PyCFunction)Merger_merge, METH_VARARGS, "Deduplicate and count; None or a keep mask."},
    {"counts", (PyCFunction)Merger_counts, METH_NOARGS, "(class counts, month counts, unique, duplicates)."},
    {"repeated", (PyCFunction)Merger_repeated, METH_NOARGS, "Digests seen more than once, with counts."},
    {NULL}
};

static PyTypeObject MergerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cryptocheck.bulk._fastcert.Merger",
    .tp_basicsize = sizeof(Merger),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Merger_init,
    .tp_dealloc = (destructor)Merger_dealloc,
    .tp_methods = Merger_methods,
};

/* --------------------------------------------------------------- helpers for tests */

static PyObject *count_items(PyObject *mod, PyObject *args)
{
    /* (newlines, BEGIN lines) in a buffer, BEGIN lines counted when they start before
     * upto: for splitting big files among jobs */
    Py_buffer v;
    Py_ssize_t upto = -1;
    if (!PyArg_ParseTuple(args, "y*|n", &v, &upto)) return NULL;
    if (upto < 0 || upto > v.len) upto = v.len;
    const uint8_t *d = v.buf;
    long long nl = count_nl(d, 0, v.len), begins = 0;
    Py_ssize_t pos = 0, le;
    while (1) {
        Py_ssize_t at = find_begin(d, v.len, pos, &le);
        if (at < 0 || at >= upto || le < 0) break;
        begins++;
        pos = le;
    }
    PyBuffer_Release(&v);
    return Py_BuildValue("LL", nl, begins);
}

static PyMethodDef module_methods[] = {
    {"count_items", count_items, METH_VARARGS, "(newlines, BEGIN lines) in a buffer."},
    {"filter_lines", filter_lines, METH_VARARGS, "The lines a merge mask keeps."},
    {NULL}
};

static struct PyModuleDef moddef = {
    PyModuleDef_HEAD_INIT, "_fastcert", "Bulk certificate scanning hot path.", -1, module_methods,
};

PyMODINIT_FUNC PyInit__fastcert(void)
{
    b64_init();
    if (PyType_Ready(&ScannerType) < 0 || PyType_Ready(&MergerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (!m) return NULL;
    Py_INCREF(&ScannerType);
    PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType);
    Py_INCREF(&MergerType);
    PyModule_AddObject(m, "Merger", (PyObject *)&MergerType);
    return m;
}
