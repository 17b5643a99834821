// C shim over libjpeg(-turbo): decodes a JPEG held in memory the way Pillow's JpegDecode.c
// configures libjpeg (ISLOW DCT, fancy upsampling, no scaling). Errors come back as a status
// and a message; setjmp/longjmp stay inside cjpeg.c and never cross a Swift frame.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Scans a progressive JPEG may have before it is refused as corrupt (see cjpeg_progress).
#define CJPEG_MAX_SCANS 200

enum {
    CJPEG_OK = 0,
    CJPEG_CORRUPT = 1,      // libjpeg raised an error (bad markers, bad Huffman data, …)
    CJPEG_TRUNCATED = 2,    // the data ran out before the last scanline (Pillow: "image file is truncated")
    CJPEG_UNSUPPORTED = 3,  // a component count Pillow does not open (not 1, 3 or 4)
    CJPEG_TOO_LARGE = 4,    // header declares more pixels than max_pixels
    CJPEG_BUFFER = 5,       // out_capacity too small (caller bug)
};

typedef struct {
    int width;
    int height;
    /// 1 = L (grayscale), 3 = RGB, 4 = CMYK (Adobe-inverted back, as Pillow's "CMYK;I").
    int components;
    /// libjpeg's J_COLOR_SPACE of the file (for diagnostics).
    int jpeg_color_space;
    int progressive;
} cjpeg_info;

/// Reads the header only (no pixel decoding). Returns a CJPEG_* status; on failure `msg` says why.
int cjpeg_read_header(const uint8_t *data, size_t size, uint64_t max_pixels, cjpeg_info *info,
                      char *msg, size_t msg_capacity);

/// Decodes into `out` (width·height·components bytes, rows top to bottom, channels interleaved).
int cjpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, cjpeg_info *info,
                 uint8_t *out, size_t out_capacity, char *msg, size_t msg_capacity);
