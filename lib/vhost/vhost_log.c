/* SPDX-License-Identifier: BSD-3-Clause */
/* SET_LOG_BASE: map the dirty bitmap the front-end shares (see vhost_log.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost_log.h"

static void
log_unmap(struct vhu_log *log)
{
	if (log == NULL)
		return;
	munmap(log->mmap_addr, log->mmap_size);
	free(log);
}

enum vhu_msg_result
vhu_log_set_base(struct vhu_vhost_dev *dev, const struct vhost_user_log *l, int fd)
{
	struct vhu_log *log, *old;
	uint64_t end;
	struct stat st;
	void *addr;

	if (l->mmap_size == 0 || __builtin_add_overflow(l->mmap_offset, l->mmap_size, &end) ||
	    end > (uint64_t)SIZE_MAX / 2) {
		VHU_LOG(ERR, "%s: SET_LOG_BASE size 0x%" PRIx64 " offset 0x%" PRIx64 " is empty or "
			"overflows; refused", dev->path, l->mmap_size, l->mmap_offset);
		close(fd);
		return VHU_MSG_CLOSE;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < end) {
		VHU_LOG(ERR, "%s: SET_LOG_BASE fd is not a memory file of at least 0x%" PRIx64
			" bytes; refused", dev->path, end);
		close(fd);
		return VHU_MSG_CLOSE;
	}
	addr = mmap(NULL, end, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (addr == MAP_FAILED) {
		VHU_LOG(ERR, "%s: cannot map the dirty log (0x%" PRIx64 " bytes): %s", dev->path,
			end, strerror(errno));
		return VHU_MSG_FAIL;
	}
	log = calloc(1, sizeof(*log));
	if (log == NULL) {
		munmap(addr, end);
		return VHU_MSG_FAIL;
	}
	log->mmap_addr = addr;
	log->mmap_size = end;
	log->bitmap = (uint8_t *)addr + l->mmap_offset;
	log->size = l->mmap_size;
	old = dev->log;
	/* Release: the bitmap mapping is set up before a burst can load it. */
	__atomic_store_n(&dev->log, log, __ATOMIC_RELEASE);
	if (old != NULL) {
		/* A burst loads dev->log once at its start (vhu_log_begin()). */
		vhu_dev_wait_bursts(dev);
		log_unmap(old);
	}
	VHU_LOG(INFO, "%s: dirty log of %" PRIu64 " bytes mapped", dev->path, l->mmap_size);
	return VHU_MSG_OK;
}

void
vhu_log_free(struct vhu_vhost_dev *dev)
{
	struct vhu_log *old = dev->log;

	if (old == NULL)
		return;
	__atomic_store_n(&dev->log, NULL, __ATOMIC_RELEASE);
	vhu_dev_wait_bursts(dev);
	log_unmap(old);
}
