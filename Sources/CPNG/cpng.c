// libpng behind a status-returning API. Pillow decodes PNG with its own zlib reader: it checks
// the CRC of every chunk before the first IDAT, does not check IDAT CRCs, and ignores gAMA,
// sRGB and iCCP. This shim mirrors that: a CRC pre-scan here, libpng told to skip CRCs.
#include "cpng.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t pos;
    int ran_out;
    char *msg;
    size_t msg_capacity;
} cpng_source;

static void cpng_error_fn(png_structp png, png_const_charp text) {
    cpng_source *src = (cpng_source *)png_get_error_ptr(png);
    if (src->msg && src->msg_capacity) snprintf(src->msg, src->msg_capacity, "%s", text);
    png_longjmp(png, 1);
}

static void cpng_warning_fn(png_structp png, png_const_charp text) { (void)png; (void)text; }

static void cpng_read_fn(png_structp png, png_bytep out, size_t length) {
    cpng_source *src = (cpng_source *)png_get_io_ptr(png);
    if (length > src->size - src->pos) {
        src->ran_out = 1;
        png_error(png, "image file is truncated");
    }
    memcpy(out, src->data + src->pos, length);
    src->pos += length;
}

// Bitwise CRC-32 (no shared table, so concurrent decodes need no locking); only the small
// chunks before IDAT go through it.
static uint32_t cpng_crc32(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

// Walks the chunks before the first IDAT and checks each CRC (Pillow's ChunkStream.crc).
static int cpng_prescan(const uint8_t *data, size_t size, char *msg, size_t cap) {
    static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (size < 8 || memcmp(data, sig, 8) != 0) {
        snprintf(msg, cap, "not a PNG file (bad signature)");
        return size < 8 ? CPNG_TRUNCATED : CPNG_CORRUPT;
    }
    size_t pos = 8;
    for (;;) {
        if (size - pos < 8) {
            snprintf(msg, cap, "image file is truncated (no IDAT chunk before the end)");
            return CPNG_TRUNCATED;
        }
        uint32_t length = be32(data + pos);
        const uint8_t *type = data + pos + 4;
        if (memcmp(type, "IDAT", 4) == 0) return CPNG_OK;
        if (length > 0x7FFFFFFFu) {
            snprintf(msg, cap, "broken PNG file (chunk length %u out of range)", length);
            return CPNG_CORRUPT;
        }
        if ((uint64_t)(size - pos - 8) < (uint64_t)length + 4) {
            snprintf(msg, cap, "image file is truncated (inside chunk %.4s)", (const char *)type);
            return CPNG_TRUNCATED;
        }
        if (cpng_crc32(type, (size_t)length + 4) != be32(data + pos + 8 + length)) {
            snprintf(msg, cap, "broken PNG file (bad header checksum in %.4s)", (const char *)type);
            return CPNG_CORRUPT;
        }
        if (memcmp(type, "IEND", 4) == 0) {
            snprintf(msg, cap, "broken PNG file (no IDAT chunk)");
            return CPNG_CORRUPT;
        }
        pos += 12 + (size_t)length;
    }
}

size_t cpng_row_bytes(const cpng_info *info) {
    size_t bytes = info->bit_depth == 16 ? 2 : 1;
    return (size_t)info->width * (size_t)info->channels * bytes;
}

static int cpng_run(const uint8_t *data, size_t size, uint64_t max_pixels, cpng_info *info,
                    uint8_t *out, size_t out_capacity, int header_only, char *msg, size_t cap) {
    memset(info, 0, sizeof *info);
    if (msg && cap) msg[0] = 0;
    int pre = cpng_prescan(data, size, msg, cap);
    if (pre != CPNG_OK) return pre;

    cpng_source src = {data, size, 0, 0, msg, cap};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, cpng_error_fn, cpng_warning_fn);
    if (!png) {
        snprintf(msg, cap, "libpng could not allocate its reader");
        return CPNG_CORRUPT;
    }
    png_infop pinfo = png_create_info_struct(png);
    volatile int status = CPNG_OK;
    png_bytep *volatile rows = NULL;
    if (!pinfo) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(msg, cap, "libpng could not allocate its info struct");
        return CPNG_CORRUPT;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_free(png, rows);
        png_destroy_read_struct(&png, &pinfo, NULL);
        return src.ran_out ? CPNG_TRUNCATED : CPNG_CORRUPT;
    }
    png_set_read_fn(png, &src, cpng_read_fn);
    png_set_user_limits(png, 0x7FFFFFFF, 0x7FFFFFFF);
    png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
    png_read_info(png, pinfo);

    info->width = png_get_image_width(png, pinfo);
    info->height = png_get_image_height(png, pinfo);
    info->bit_depth = png_get_bit_depth(png, pinfo);
    info->color_type = png_get_color_type(png, pinfo);
    info->interlaced = png_get_interlace_type(png, pinfo) != PNG_INTERLACE_NONE;
    info->has_trns = png_get_valid(png, pinfo, PNG_INFO_tRNS) ? 1 : 0;
    switch (info->color_type) {
    case PNG_COLOR_TYPE_GRAY: info->channels = 1; break;
    case PNG_COLOR_TYPE_RGB: info->channels = 3; break;
    case PNG_COLOR_TYPE_PALETTE: info->channels = 1; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: info->channels = 2; break;
    case PNG_COLOR_TYPE_RGB_ALPHA: info->channels = 4; break;
    default:
        snprintf(msg, cap, "unknown PNG colour type %d", info->color_type);
        status = CPNG_UNSUPPORTED;
        goto done;
    }
    if (info->color_type == PNG_COLOR_TYPE_PALETTE) {
        png_colorp plte = NULL;
        int n = 0;
        if (png_get_PLTE(png, pinfo, &plte, &n) && plte) {
            if (n > 256) n = 256;
            for (int i = 0; i < n; i++) {
                info->palette[3 * i] = plte[i].red;
                info->palette[3 * i + 1] = plte[i].green;
                info->palette[3 * i + 2] = plte[i].blue;
            }
            info->palette_count = n;
        }
    }
    if ((uint64_t)info->width * (uint64_t)info->height > max_pixels) {
        snprintf(msg, cap, "the header declares %ux%u pixels", info->width, info->height);
        status = CPNG_TOO_LARGE;
        goto done;
    }
    if (header_only) goto done;
    {
        if (info->bit_depth < 8) png_set_packing(png);
        if (info->interlaced) png_set_interlace_handling(png);
        png_read_update_info(png, pinfo);
        size_t row = cpng_row_bytes(info);
        if (png_get_rowbytes(png, pinfo) != row) {
            snprintf(msg, cap, "libpng chose an unexpected row layout");
            status = CPNG_UNSUPPORTED;
            goto done;
        }
        if (out == NULL || out_capacity < row * info->height) {
            snprintf(msg, cap, "output buffer too small");
            status = CPNG_BUFFER;
            goto done;
        }
        rows = (png_bytep *)png_malloc(png, sizeof(png_bytep) * info->height);
        for (uint32_t y = 0; y < info->height; y++) rows[y] = out + (size_t)y * row;
        png_read_image(png, rows);
        // Like Pillow, chunks after the image data (and IEND) are not required.
    }
done:
    png_free(png, rows);
    png_destroy_read_struct(&png, &pinfo, NULL);
    return status;
}

int cpng_read_header(const uint8_t *data, size_t size, uint64_t max_pixels, cpng_info *info,
                     char *msg, size_t msg_capacity) {
    return cpng_run(data, size, max_pixels, info, NULL, 0, 1, msg, msg_capacity);
}

int cpng_decode(const uint8_t *data, size_t size, uint64_t max_pixels, cpng_info *info,
                uint8_t *out, size_t out_capacity, char *msg, size_t msg_capacity) {
    return cpng_run(data, size, max_pixels, info, out, out_capacity, 0, msg, msg_capacity);
}
