#ifndef GOKV_CRC32_H
#define GOKV_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of len bytes. */
uint32_t crc32_ieee(const unsigned char *buf, size_t len);

/* Continue a running CRC; start with crc = 0. */
uint32_t crc32_update(uint32_t crc, const unsigned char *buf, size_t len);

#endif /* GOKV_CRC32_H */
