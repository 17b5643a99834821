// C shim over libpng: decodes a PNG held in memory into raw samples (no gamma, no colour
// management, no expansion: Pillow's own PNG reader applies none). Errors come back as a status
// and a message; setjmp/longjmp stay inside cpng.c and never cross a Swift frame.
#pragma once
#include <stddef.h>
#include <stdint.h>

enum {
    CPNG_OK = 0,
    CPNG_CORRUPT = 1,      // libpng raised an error, or a chunk before IDAT has a bad CRC
    CPNG_TRUNCATED = 2,    // the data ran out
    CPNG_UNSUPPORTED = 3,
    CPNG_TOO_LARGE = 4,    // header declares more pixels than max_pixels
    CPNG_BUFFER = 5,       // out_capacity too small (caller bug)
};

typedef struct {
    uint32_t width;
    uint32_t height;
    int bit_depth;     // 1, 2, 4, 8, 16 as in IHDR
    int color_type;    // 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
    int channels;      // samples per pixel in the output rows
    int interlaced;
    int palette_count; // PLTE entries (palette images)
    uint8_t palette[768];
    int has_trns;
} cpng_info;

/// Reads the signature and IHDR (and checks the CRC of every chunk before IDAT, as Pillow does).
int cpng_read_header(const uint8_t *data, size_t size, uint64_t max_pixels, cpng_info *info,
                     char *msg, size_t msg_capacity);

/// The output row size: bit depths below 8 are unpacked to one byte per sample (raw values,
/// not scaled); 16-bit samples are kept big-endian, two bytes each.
size_t cpng_row_bytes(const cpng_info *info);

/// Decodes all rows (de-interlaced) into `out`, `height · cpng_row_bytes` bytes.
int cpng_decode(const uint8_t *data, size_t size, uint64_t max_pixels, cpng_info *info,
                uint8_t *out, size_t out_capacity, char *msg, size_t msg_capacity);
