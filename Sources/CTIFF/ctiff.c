// libtiff behind a status-returning API. Reads as Pillow's TiffDecode.c does: strips with
// TIFFReadEncodedStrip, tiles with TIFFReadTile, separate planes one after the other, and
// TIFFTAG_JPEGCOLORMODE = RGB for JPEG-compressed YCbCr.
#include "ctiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    toff_t pos;
    int ran_out;
    char *msg;
    size_t cap;
    int has_msg;
} ctiff_source;

static tmsize_t ctiff_read(thandle_t h, void *buf, tmsize_t n) {
    ctiff_source *s = (ctiff_source *)h;
    if (s->pos >= s->size) { s->ran_out = 1; return 0; }
    size_t left = s->size - (size_t)s->pos;
    size_t k = (size_t)n > left ? left : (size_t)n;
    if (k < (size_t)n) s->ran_out = 1;
    memcpy(buf, s->data + s->pos, k);
    s->pos += k;
    return (tmsize_t)k;
}
static tmsize_t ctiff_write(thandle_t h, void *buf, tmsize_t n) { (void)h; (void)buf; (void)n; return -1; }
static toff_t ctiff_seek(thandle_t h, toff_t off, int whence) {
    ctiff_source *s = (ctiff_source *)h;
    toff_t base = whence == SEEK_SET ? 0 : (whence == SEEK_CUR ? s->pos : (toff_t)s->size);
    s->pos = base + off;
    return s->pos;
}
static int ctiff_close(thandle_t h) { (void)h; return 0; }
static toff_t ctiff_size(thandle_t h) { return (toff_t)((ctiff_source *)h)->size; }
static int ctiff_map(thandle_t h, void **base, toff_t *size) { (void)h; (void)base; (void)size; return 0; }
static void ctiff_unmap(thandle_t h, void *base, toff_t size) { (void)h; (void)base; (void)size; }

static int ctiff_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif; (void)module;
    ctiff_source *s = (ctiff_source *)user;
    if (!s->has_msg && s->msg && s->cap) {  // keep the first error: later ones are consequences
        vsnprintf(s->msg, s->cap, fmt, ap);
        s->has_msg = 1;
    }
    return 1;
}
static int ctiff_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif; (void)user; (void)module; (void)fmt; (void)ap;
    return 1;
}

static TIFF *ctiff_open(ctiff_source *s) {
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts) return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(opts, ctiff_error, s);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, ctiff_warning, s);
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)1 << 30);
    TIFF *tif = TIFFClientOpenExt("memory", "rm", (thandle_t)s, ctiff_read, ctiff_write, ctiff_seek,
                                  ctiff_close, ctiff_size, ctiff_map, ctiff_unmap, opts);
    TIFFOpenOptionsFree(opts);
    return tif;
}

static int ctiff_fail(ctiff_source *s, const char *fallback) {
    if (!s->has_msg) snprintf(s->msg, s->cap, "%s", fallback);
    return s->ran_out ? CTIFF_TRUNCATED : CTIFF_CORRUPT;
}

static int ctiff_tags(TIFF *tif, ctiff_source *s, uint64_t max_pixels, ctiff_info *info) {
    uint32_t w = 0, h = 0;
    uint16_t v16 = 0, count = 0, *extra = NULL;
    memset(info, 0, sizeof *info);
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h)) {
        snprintf(s->msg, s->cap, "missing dimensions");
        return CTIFF_CORRUPT;
    }
    info->width = w;
    info->height = h;
    if (w == 0 || h == 0) {
        snprintf(s->msg, s->cap, "size %ux%u", w, h);
        return CTIFF_CORRUPT;
    }
    if ((uint64_t)w * h > max_pixels) return CTIFF_TOO_LARGE;
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &v16); info->bits_per_sample = v16;
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &v16); info->samples_per_pixel = v16;
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &v16); info->sample_format = v16;
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &v16); info->planar = v16;
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &v16); info->compression = v16;
    TIFFGetFieldDefaulted(tif, TIFFTAG_FILLORDER, &v16); info->fill_order = v16;
    info->orientation = TIFFGetField(tif, TIFFTAG_ORIENTATION, &v16) ? v16 : 1;
    info->photometric = TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &v16) ? v16 : PHOTOMETRIC_MINISWHITE;
    if (TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &count, &extra) && count > 0) {
        info->extra_count = count;
        info->extra_first = extra[0];
        int all_unspecified = 1;
        for (int k = 0; k < count; k++) all_unspecified &= extra[k] == 0;
        if (all_unspecified && info->planar == 2 && count < info->samples_per_pixel) info->dropped_planes = count;
    }
    info->big_endian = TIFFIsBigEndian(tif) ? 1 : 0;
    if (info->compression == COMPRESSION_OJPEG) {
        snprintf(s->msg, s->cap, "old-style JPEG compression");
        return CTIFF_UNSUPPORTED;
    }
    if (info->photometric == PHOTOMETRIC_YCBCR && info->compression == COMPRESSION_JPEG && info->planar == 1) {
        TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        info->photometric = PHOTOMETRIC_RGB;
    }
    if (info->photometric == PHOTOMETRIC_PALETTE) {
        uint16_t *r = NULL, *g = NULL, *b = NULL;
        if (info->bits_per_sample > 8 || !TIFFGetField(tif, TIFFTAG_COLORMAP, &r, &g, &b)) {
            snprintf(s->msg, s->cap, "palette image without an 8-bit colormap");
            return CTIFF_UNSUPPORTED;
        }
        int n = 1 << info->bits_per_sample;
        info->palette_count = n;
        for (int i = 0; i < n; i++) {
            info->colormap[i] = r[i];
            info->colormap[n + i] = g[i];
            info->colormap[2 * n + i] = b[i];
        }
    }
    if (!TIFFIsCODECConfigured((uint16_t)info->compression)) {
        snprintf(s->msg, s->cap, "compression %d is not available in this libtiff", info->compression);
        return CTIFF_UNSUPPORTED;
    }
    if (info->planar == 2 && info->samples_per_pixel > 1 && info->bits_per_sample % 8 != 0) {
        snprintf(s->msg, s->cap, "separate planes of %d-bit samples", info->bits_per_sample);
        return CTIFF_UNSUPPORTED;
    }
    if (info->bits_per_sample == 0 || info->bits_per_sample > 32 || info->samples_per_pixel == 0 ||
        info->samples_per_pixel > 8) {
        snprintf(s->msg, s->cap, "%d samples of %d bits", info->samples_per_pixel, info->bits_per_sample);
        return CTIFF_UNSUPPORTED;
    }
    return CTIFF_OK;
}

size_t ctiff_row_bytes(const ctiff_info *info) {
    return ((size_t)info->width * info->samples_per_pixel * info->bits_per_sample + 7) / 8;
}

int ctiff_read_header(const uint8_t *data, size_t size, uint64_t max_pixels, ctiff_info *info,
                      char *msg, size_t cap) {
    ctiff_source s = {data, size, 0, 0, msg, cap, 0};
    TIFF *tif = ctiff_open(&s);
    if (!tif) return ctiff_fail(&s, "not a readable TIFF");
    int st = ctiff_tags(tif, &s, max_pixels, info);
    TIFFClose(tif);
    return st;
}

// Copies one decoded block (a strip or tile of `bw` × `bh` samples-per-pixel `spp` for plane
// `plane`, rows `block_row_bytes` apart) to (x0, y0) in the contiguous output.
static void ctiff_place(const ctiff_info *info, const uint8_t *block, size_t block_row_bytes, uint32_t x0,
                        uint32_t y0, uint32_t bw, uint32_t bh, int plane, uint8_t *out) {
    size_t row_bytes = ctiff_row_bytes(info);
    uint32_t cw = x0 + bw > info->width ? info->width - x0 : bw;
    uint32_t ch = y0 + bh > info->height ? info->height - y0 : bh;
    if (info->planar == 2 && info->samples_per_pixel > 1) {
        size_t bytes = (size_t)info->bits_per_sample / 8, spp = (size_t)info->samples_per_pixel;
        for (uint32_t y = 0; y < ch; y++) {
            const uint8_t *src = block + y * block_row_bytes;
            uint8_t *dst = out + (size_t)(y0 + y) * row_bytes + ((size_t)x0 * spp + (size_t)plane) * bytes;
            for (uint32_t x = 0; x < cw; x++) memcpy(dst + (size_t)x * spp * bytes, src + (size_t)x * bytes, bytes);
        }
        return;
    }
    size_t bits = (size_t)info->samples_per_pixel * info->bits_per_sample;
    if ((x0 * bits) % 8 != 0 || (cw * bits) % 8 != 0) {  // tiles of sub-byte pixels at odd offsets: bit copy
        for (uint32_t y = 0; y < ch; y++)
            for (size_t b = 0; b < cw * bits; b++) {
                size_t d = x0 * bits + b;
                int bit = (block[y * block_row_bytes + b / 8] >> (7 - b % 8)) & 1;
                uint8_t *p = out + (size_t)(y0 + y) * row_bytes + d / 8;
                *p = (uint8_t)((*p & ~(0x80 >> (d % 8))) | (bit << (7 - d % 8)));
            }
        return;
    }
    for (uint32_t y = 0; y < ch; y++)
        memcpy(out + (size_t)(y0 + y) * row_bytes + x0 * bits / 8, block + y * block_row_bytes, cw * bits / 8);
}

// An uncompressed tile that the file cuts short: Pillow reads such tiles with its own raw decoder,
// which needs only the rows inside the image (and of the last one only its pixels), not the
// tile's padding. Returns 1 when those bytes are present (the rest of `block` zeroed).
static int ctiff_short_raw_tile(TIFF *tif, ctiff_source *s, const ctiff_info *info, uint32_t x, uint32_t y,
                                uint32_t tw, uint32_t th, int plane, size_t trow, uint8_t *block, size_t block_size) {
    uint64_t *offsets = NULL;
    if (info->compression != COMPRESSION_NONE || !s->ran_out ||
        !TIFFGetField(tif, TIFFTAG_TILEOFFSETS, &offsets) || !offsets) return 0;
    uint32_t tile = TIFFComputeTile(tif, x, y, 0, (uint16_t)plane);
    if (tile >= TIFFNumberOfTiles(tif) || offsets[tile] >= s->size) return 0;
    uint32_t cw = x + tw > info->width ? info->width - x : tw;
    uint32_t ch = y + th > info->height ? info->height - y : th;
    size_t samples = info->planar == 2 ? 1 : (size_t)info->samples_per_pixel;
    size_t need = (ch - 1) * trow + ((size_t)cw * samples * info->bits_per_sample + 7) / 8;
    size_t have = s->size - (size_t)offsets[tile];
    if (have < need || need > block_size) return 0;
    memset(block, 0, block_size);
    memcpy(block, s->data + offsets[tile], have < block_size ? have : block_size);
    if (info->bits_per_sample > 8 && (TIFFIsByteSwapped(tif))) {  // host order, as TIFFReadTile gives
        size_t n = block_size / (info->bits_per_sample / 8);
        if (info->bits_per_sample == 16) TIFFSwabArrayOfShort((uint16_t *)block, (tmsize_t)n);
        else if (info->bits_per_sample == 32) TIFFSwabArrayOfLong((uint32_t *)block, (tmsize_t)n);
    }
    return 1;
}

static int ctiff_read_all(TIFF *tif, ctiff_source *s, ctiff_info *info, uint8_t *out) {
    int planes = info->planar == 2 ? info->samples_per_pixel - info->dropped_planes : 1;
    tmsize_t block_size = TIFFIsTiled(tif) ? TIFFTileSize(tif) : TIFFStripSize(tif);
    if (block_size <= 0) return ctiff_fail(s, "bad strip or tile size");
    uint8_t *block = malloc((size_t)block_size);
    if (!block) return ctiff_fail(s, "out of memory");
    int st = CTIFF_OK;
    if (TIFFIsTiled(tif)) {
        uint32_t tw = 0, th = 0;
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
        tmsize_t trow = TIFFTileRowSize(tif);
        for (int p = 0; p < planes && st == CTIFF_OK; p++)
            for (uint32_t y = 0; y < info->height && st == CTIFF_OK; y += th)
                for (uint32_t x = 0; x < info->width && st == CTIFF_OK; x += tw) {
                    if (TIFFReadTile(tif, block, x, y, 0, (uint16_t)p) >= 0 ||
                        ctiff_short_raw_tile(tif, s, info, x, y, tw, th, p, (size_t)trow, block, (size_t)block_size))
                        ctiff_place(info, block, (size_t)trow, x, y, tw, th, p, out);
                    else
                        st = ctiff_fail(s, "cannot read a tile");
                }
    } else {
        uint32_t rps = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
        if (rps == 0 || rps > info->height) rps = info->height;
        tmsize_t srow = TIFFScanlineSize(tif);
        uint32_t per_plane = (info->height + rps - 1) / rps;
        for (int p = 0; p < planes && st == CTIFF_OK; p++)
            for (uint32_t k = 0; k < per_plane && st == CTIFF_OK; k++) {
                uint32_t y = k * rps, rows = y + rps > info->height ? info->height - y : rps;
                tmsize_t want = srow * (tmsize_t)rows;
                tmsize_t got = TIFFReadEncodedStrip(tif, (uint32_t)p * per_plane + k, block, want);
                if (got < want) st = ctiff_fail(s, "cannot read a strip");
                else ctiff_place(info, block, (size_t)srow, 0, y, info->width, rows, p, out);
            }
    }
    free(block);
    return st;
}

int ctiff_decode(const uint8_t *data, size_t size, uint64_t max_pixels, ctiff_info *info,
                 uint8_t *out, size_t out_capacity, char *msg, size_t cap) {
    ctiff_source s = {data, size, 0, 0, msg, cap, 0};
    TIFF *tif = ctiff_open(&s);
    if (!tif) return ctiff_fail(&s, "not a readable TIFF");
    int st = ctiff_tags(tif, &s, max_pixels, info);
    if (st == CTIFF_OK && out_capacity < ctiff_row_bytes(info) * info->height) {
        snprintf(msg, cap, "output buffer too small");
        st = CTIFF_BUFFER;
    }
    if (st == CTIFF_OK) {
        memset(out, 0, ctiff_row_bytes(info) * info->height);
        st = ctiff_read_all(tif, &s, info, out);
    }
    TIFFClose(tif);
    return st;
}
