// libwebp behind a status-returning API. Pillow (_webp.c _anim_decoder_new) sniffs alpha with
// WebPGetFeatures and decodes through WebPAnimDecoderNew(data, NULL): RGBA, no threads, frame 1
// drawn on a canvas cleared to transparent black. This shim makes the same calls.
#include "cwebp.h"

#include <stdio.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/demux.h>

int cwebp_read_header(const uint8_t *data, size_t size, uint64_t max_pixels, cwebp_info *info,
                      char *msg, size_t cap) {
    memset(info, 0, sizeof *info);
    WebPData wd = {data, size};
    WebPDemuxState state;
    WebPDemuxer *demux = WebPDemuxPartial(&wd, &state);
    if (!demux || state == WEBP_DEMUX_PARSE_ERROR) {
        if (demux) WebPDemuxDelete(demux);
        snprintf(msg, cap, "not a valid WebP container");
        return CWEBP_CORRUPT;
    }
    if (state == WEBP_DEMUX_PARSING_HEADER) {  // the canvas size is not known yet
        WebPDemuxDelete(demux);
        snprintf(msg, cap, "the header is cut short");
        return CWEBP_TRUNCATED;
    }
    info->width = WebPDemuxGetI(demux, WEBP_FF_CANVAS_WIDTH);
    info->height = WebPDemuxGetI(demux, WEBP_FF_CANVAS_HEIGHT);
    info->frame_count = (int)WebPDemuxGetI(demux, WEBP_FF_FRAME_COUNT);
    WebPDemuxDelete(demux);
    if ((uint64_t)info->width * info->height > max_pixels) {
        snprintf(msg, cap, "%ux%u", info->width, info->height);
        return CWEBP_TOO_LARGE;
    }
    if (state != WEBP_DEMUX_DONE) {
        snprintf(msg, cap, "the file ends inside a chunk");
        return CWEBP_TRUNCATED;
    }
    WebPBitstreamFeatures features;
    info->has_alpha = WebPGetFeatures(data, size, &features) == VP8_STATUS_OK ? (features.has_alpha != 0) : 1;
    return CWEBP_OK;
}

int cwebp_decode(const uint8_t *data, size_t size, uint64_t max_pixels, cwebp_info *info,
                 uint8_t *out, size_t out_capacity, char *msg, size_t cap) {
    int st = cwebp_read_header(data, size, max_pixels, info, msg, cap);
    if (st != CWEBP_OK) return st;
    size_t bytes = (size_t)info->width * info->height * 4;
    if (out_capacity < bytes) {
        snprintf(msg, cap, "output buffer too small");
        return CWEBP_BUFFER;
    }
    WebPData wd = {data, size};
    WebPAnimDecoder *dec = WebPAnimDecoderNew(&wd, NULL);
    if (!dec) {
        snprintf(msg, cap, "could not create decoder object");
        return CWEBP_CORRUPT;
    }
    uint8_t *frame = NULL;
    int timestamp = 0;
    if (!WebPAnimDecoderGetNext(dec, &frame, &timestamp) || !frame) {
        WebPAnimDecoderDelete(dec);
        snprintf(msg, cap, "failed to decode the first frame");
        return CWEBP_CORRUPT;
    }
    memcpy(out, frame, bytes);
    WebPAnimDecoderDelete(dec);
    return CWEBP_OK;
}
