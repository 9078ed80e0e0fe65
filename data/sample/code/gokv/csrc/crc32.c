#include "crc32.h"

static uint32_t table[256];
static int table_ready = 0;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        table[i] = c;
    }
    table_ready = 1;
}

uint32_t crc32_update(uint32_t crc, const unsigned char *buf, size_t len) {
    if (!table_ready) {
        build_table();
    }
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc = table[(crc ^ buf[i]) & 0xFFu] ^ (crc >> 8);
    }
    return ~crc;
}

uint32_t crc32_ieee(const unsigned char *buf, size_t len) {
    return crc32_update(0, buf, len);
}

#ifdef CRC32_MAIN
#include <stdio.h>
#include <string.h>

int main(void) {
    const char *check = "123456789";
    /* The standard check value for CRC-32/IEEE is 0xCBF43926. */
    printf("%08x\n", crc32_ieee((const unsigned char *)check, strlen(check)));
    return 0;
}
#endif
