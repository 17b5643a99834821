// C shim over libtiff: the first directory of a TIFF held in memory, decoded to contiguous raw
// samples (what Pillow's TiffDecode.c reads before unpacking). Errors and warnings go to a
// per-call message buffer through TIFFOpenOptions handlers; nothing prints, jumps or exits.
#pragma once
#include <stddef.h>
#include <stdint.h>

enum {
    CTIFF_OK = 0,
    CTIFF_CORRUPT = 1,
    CTIFF_TRUNCATED = 2,
    CTIFF_UNSUPPORTED = 3,
    CTIFF_TOO_LARGE = 4,   // more pixels than max_pixels
    CTIFF_BUFFER = 5,      // out_capacity too small (caller bug)
};

typedef struct {
    uint32_t width;
    uint32_t height;
    int photometric;        // PHOTOMETRIC_*; a JPEG-compressed YCbCr image is reported as RGB (2),
                            // libtiff converting it (JPEGCOLORMODE_RGB), as Pillow asks it to
    int bits_per_sample;
    int samples_per_pixel;
    int sample_format;      // 1 unsigned, 2 signed, 3 float
    int planar;             // 1 contiguous, 2 separate (the output is always contiguous)
    int compression;
    int fill_order;
    int orientation;        // 1…8 (1 when absent)
    int extra_count;        // ExtraSamples: how many, and the first (0 unspecified, 1 associated, 2 unassociated)
    int extra_first;
    int dropped_planes;     // separate planes whose extra samples are all unspecified: not read (Pillow's _setup)
    int big_endian;
    int palette_count;      // colormap entries (1 << bits), for PHOTOMETRIC_PALETTE
    uint16_t colormap[768]; // red[n], green[n], blue[n] as stored (16-bit)
} ctiff_info;

/// Reads the first directory's tags and checks the size against max_pixels.
int ctiff_read_header(const uint8_t *data, size_t size, uint64_t max_pixels, ctiff_info *info,
                      char *msg, size_t msg_capacity);

/// Bytes per output row: width · samples · bits, rounded up to a byte.
size_t ctiff_row_bytes(const ctiff_info *info);

/// Decodes every strip or tile into `out` (height · ctiff_row_bytes bytes), samples interleaved,
/// 16/32-bit samples in host byte order, bit order MSB first (FillOrder undone by libtiff).
int ctiff_decode(const uint8_t *data, size_t size, uint64_t max_pixels, ctiff_info *info,
                 uint8_t *out, size_t out_capacity, char *msg, size_t msg_capacity);
