/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu_init()/vhu_fini(), the application-run control loop (watch callbacks
 * and vhu_dispatch()) and the lifecycle callbacks, over a real socket: the
 * test is the front-end, writing vhost-user messages itself, and, in the
 * application-run mode, the whole control loop too, so every step is
 * deterministic. One test runs the library's own control thread.
 */
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <rte_cycles.h>

#include "msg_helpers.h"
#include "unit_eal.h"
#include "vhu.h"

#define RING_SIZE  64
#define MAX_WATCH  16
#define MAX_EVENTS 32

/* ---- the application's loop ---- */

static int watched[MAX_WATCH];
static unsigned int n_watched;

static int
app_add(void *ctx, int fd)
{
	(void)ctx;
	if (n_watched == MAX_WATCH)
		return -ENOSPC;
	watched[n_watched++] = fd;
	return 0;
}

static void
app_del(void *ctx, int fd)
{
	unsigned int i;

	(void)ctx;
	for (i = 0; i < n_watched; i++) {
		if (watched[i] == fd) {
			watched[i] = watched[--n_watched];
			return;
		}
	}
	th_fail(__FILE__, __LINE__, "del of fd %d, which was never added", fd);
}

static const struct vhu_watch_ops app_watch = { .add = app_add, .del = app_del };
static const struct vhu_init_params app_params = { .watch = &app_watch };

/* One round of the application's loop: dispatch every readable watched fd. */
static void
pump(void)
{
	struct pollfd pfd[MAX_WATCH];
	unsigned int i, n = n_watched;

	for (i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = watched[i], .events = POLLIN };
	if (poll(pfd, n, 100) <= 0)
		return;
	for (i = 0; i < n; i++)
		if (pfd[i].revents != 0)
			vhu_dispatch(pfd[i].fd);
}

/* ---- what the callbacks saw ---- */

enum ev { EV_FEATURES, EV_VRING, EV_READY, EV_STOPPING, EV_CLOSED };

struct seen {
	enum ev ev;
	uint16_t vq;
	bool enabled;
	uint64_t features;
	bool lock_free; /* vhu_ctrl_lock was not held during the callback */
	pthread_t thread;
};

static struct seen seen[MAX_EVENTS];
static unsigned int n_seen;
static bool destroy_on_close; /* connection_closed destroys the device */

static void
record(enum ev ev, uint16_t vq, bool enabled, uint64_t features)
{
	struct seen *s;

	if (n_seen == MAX_EVENTS)
		return;
	s = &seen[n_seen];
	s->ev = ev;
	s->vq = vq;
	s->enabled = enabled;
	s->features = features;
	s->thread = pthread_self();
	s->lock_free = pthread_mutex_trylock(&vhu_ctrl_lock) == 0;
	if (s->lock_free)
		pthread_mutex_unlock(&vhu_ctrl_lock);
	__atomic_store_n(&n_seen, n_seen + 1, __ATOMIC_RELEASE);
}

static void
on_ready(void *arg, struct vhu_vhost_dev *dev)
{
	struct vhu_vhost_info info;

	/* A callback may call the library: here, the state it just reported. */
	ASSERT_EQ(vhu_vhost_get_info(dev, &info), 0);
	ASSERT_TRUE(info.running);
	record(EV_READY, 0, false, 0);
}

/* memfd mappings (guest memory) when device_stopping last ran. */
static int maps_at_stopping = -1;

static void
on_stopping(void *arg, struct vhu_vhost_dev *dev)
{
	maps_at_stopping = count_memfd_mappings();
	record(EV_STOPPING, 0, false, 0);
}

static void
on_vring(void *arg, struct vhu_vhost_dev *dev, uint16_t vq, bool enabled)
{
	record(EV_VRING, vq, enabled, 0);
}

static void
on_features(void *arg, struct vhu_vhost_dev *dev, uint64_t features)
{
	record(EV_FEATURES, 0, false, features);
}

static void
on_closed(void *arg, struct vhu_vhost_dev *dev)
{
	record(EV_CLOSED, 0, false, 0);
	if (destroy_on_close) {
		vhu_vhost_destroy(dev);
		*(struct vhu_vhost_dev **)arg = NULL;
	}
}

static const struct vhu_vhost_callbacks callbacks = {
	.device_ready = on_ready,
	.device_stopping = on_stopping,
	.vring_state = on_vring,
	.features_changed = on_features,
	.connection_closed = on_closed,
};

#define ASSERT_SEEN(i, e, q, on) \
	do { \
		ASSERT_TRUE((i) < n_seen); \
		ASSERT_EQ(seen[i].ev, e); \
		ASSERT_EQ(seen[i].vq, q); \
		ASSERT_EQ(seen[i].enabled, on); \
		ASSERT_TRUE(seen[i].lock_free); \
	} while (0)

/* ---- the front-end ---- */

struct fe {
	char path[108];
	int sock;
	int memfd;
};

static struct vhu_vhost_dev *
fe_device(struct fe *fe, struct vhu_vhost_dev **slot)
{
	struct vhu_vhost_config cfg = {
		.queue_pairs = 1,
		.callbacks = &callbacks,
		.callback_arg = slot,
	};

	snprintf(fe->path, sizeof(fe->path), "/tmp/vhu-unit-events-%d.sock", (int)getpid());
	cfg.path = fe->path;
	unlink(fe->path);
	n_seen = 0;
	*slot = vhu_vhost_create(&cfg);
	ASSERT_NOT_NULL(*slot);
	return *slot;
}

static void
fe_connect(struct fe *fe)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", fe->path);
	fe->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_TRUE(fe->sock >= 0);
	ASSERT_EQ(connect(fe->sock, (struct sockaddr *)&un, sizeof(un)), 0);
	fe->memfd = make_memfd(GUEST_SIZE);
}

static void
fe_close(struct fe *fe)
{
	close(fe->sock);
	close(fe->memfd);
}

/* Send one message with 'nfds' fds (the caller's; the peer gets copies). */
static void
fe_send(struct fe *fe, struct vhost_user_msg *m, int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { vhost_user_msg_wire(m), VHOST_USER_HDR_SIZE + m->hdr.size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	ASSERT_EQ(sendmsg(fe->sock, &mh, 0), (ssize_t)iov.iov_len);
}

/* SET_OWNER, SET_FEATURES (VERSION_1), SET_MEM_TABLE. */
static void
fe_negotiate(struct fe *fe)
{
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_SET_OWNER, 0);
	fe_send(fe, &m, NULL, 0);
	msg_u64(&m, VHOST_USER_SET_FEATURES, VHU_BIT(VIRTIO_F_VERSION_1));
	fe_send(fe, &m, NULL, 0);
	msg_mem_table(&m, 1);
	msg_region(&m, 0, 0, GUEST_SIZE, UVA_BASE, 0);
	fe_send(fe, &m, &fe->memfd, 1);
}

/* NUM, ADDR, BASE, KICK of ring 'index', its areas at 'area' in the guest. */
static void
fe_ring(struct fe *fe, uint32_t index, uint64_t area)
{
	struct vhost_user_msg m;
	int kick = make_eventfd();

	msg_state(&m, VHOST_USER_SET_VRING_NUM, index, RING_SIZE);
	fe_send(fe, &m, NULL, 0);
	msg_addr(&m, index, UVA_BASE + area, UVA_BASE + area + 0x1000, UVA_BASE + area + 0x2000);
	fe_send(fe, &m, NULL, 0);
	msg_state(&m, VHOST_USER_SET_VRING_BASE, index, 0);
	fe_send(fe, &m, NULL, 0);
	msg_u64(&m, VHOST_USER_SET_VRING_KICK, index);
	fe_send(fe, &m, &kick, 1);
	close(kick);
}

/* ---- tests ---- */

TEST(init_refuses_a_second_call_and_half_a_watch)
{
	static const struct vhu_watch_ops half = { .add = app_add };
	const struct vhu_init_params bad = { .watch = &half };

	unit_pool(64);
	ASSERT_EQ(vhu_init(&bad), -EINVAL);
	ASSERT_EQ(vhu_init(&app_params), 0);
	ASSERT_EQ(vhu_init(&app_params), -EALREADY);
	ASSERT_EQ(vhu_init(NULL), -EALREADY);
	ASSERT_EQ(vhu_dispatch(-1), 0);
	ASSERT_EQ(vhu_fini(), 0);
	/* Without a loop, or with the library's own thread, there is nothing to dispatch. */
	ASSERT_EQ(vhu_dispatch(-1), -EPERM);
}

TEST(app_loop_serves_a_front_end_and_every_callback_is_called_without_the_lock)
{
	struct vhu_vhost_dev *dev;
	struct vhost_user_msg m;
	unsigned int idle;
	struct fe fe;

	unit_pool(64);
	ASSERT_EQ(vhu_init(&app_params), 0);
	fe_device(&fe, &dev);
	/* The listening socket, the IOTLB miss eventfd. */
	idle = n_watched;
	ASSERT_TRUE(idle >= 1);
	fe_connect(&fe);
	pump();
	ASSERT_EQ(n_watched, idle + 1); /* and the connection */

	fe_negotiate(&fe);
	fe_ring(&fe, 0, 0x10000);
	pump();
	/* Ring 0 runs, but its pair's other ring is not set up: not ready yet. */
	ASSERT_EQ(n_seen, 2);
	ASSERT_SEEN(0, EV_FEATURES, 0, false);
	ASSERT_EQ(seen[0].features, VHU_BIT(VIRTIO_F_VERSION_1));
	ASSERT_SEEN(1, EV_VRING, 0, true);
	fe_ring(&fe, 1, 0x20000);
	pump();
	ASSERT_EQ(n_seen, 4);
	ASSERT_SEEN(2, EV_VRING, 1, true);
	ASSERT_SEEN(3, EV_READY, 0, false);
	ASSERT_TRUE(pthread_equal(seen[3].thread, pthread_self()));

	/* GET_VRING_BASE stops ring 0: the device first, then the ring. */
	msg_state(&m, VHOST_USER_GET_VRING_BASE, 0, 0);
	fe_send(&fe, &m, NULL, 0);
	pump();
	ASSERT_EQ(n_seen, 6);
	ASSERT_SEEN(4, EV_STOPPING, 0, false);
	ASSERT_SEEN(5, EV_VRING, 0, false);

	/* The front-end goes: ring 1 stops, then the connection is reported. */
	fe_close(&fe);
	pump();
	ASSERT_EQ(n_seen, 8);
	ASSERT_SEEN(6, EV_VRING, 1, false);
	ASSERT_SEEN(7, EV_CLOSED, 0, false);
	ASSERT_EQ(n_watched, idle);

	ASSERT_EQ(vhu_fini(), -EBUSY);
	ASSERT_EQ(vhu_dispatch(12345), -ENOENT);
	vhu_vhost_destroy(dev);
	ASSERT_EQ(n_watched, 0);
	ASSERT_EQ(n_seen, 8);
	ASSERT_EQ(vhu_fini(), 0);
}

TEST(a_callback_may_destroy_its_own_device)
{
	struct vhu_vhost_dev *dev;
	struct fe fe;

	unit_pool(64);
	ASSERT_EQ(vhu_init(&app_params), 0);
	fe_device(&fe, &dev);
	fe_connect(&fe);
	pump();
	destroy_on_close = true;
	fe_close(&fe);
	pump();
	destroy_on_close = false;
	ASSERT_NULL(dev);
	ASSERT_EQ(n_seen, 1);
	ASSERT_SEEN(0, EV_CLOSED, 0, false);
	ASSERT_EQ(n_watched, 0);
	ASSERT_EQ(vhu_fini(), 0);
}

TEST(control_thread_calls_back_from_its_own_thread_and_fini_joins_it)
{
	struct vhu_vhost_dev *dev;
	unsigned int i;
	struct fe fe;

	unit_pool(64);
	ASSERT_EQ(vhu_init(NULL), 0);
	ASSERT_EQ(vhu_dispatch(-1), -EPERM);
	fe_device(&fe, &dev);
	ASSERT_EQ(n_watched, 0); /* the library's own epoll set */
	fe_connect(&fe);
	fe_negotiate(&fe);
	fe_ring(&fe, 0, 0x10000);
	fe_ring(&fe, 1, 0x20000);
	for (i = 0; i < 500 && __atomic_load_n(&n_seen, __ATOMIC_ACQUIRE) < 4; i++)
		rte_delay_ms(10);
	ASSERT_EQ(n_seen, 4);
	ASSERT_SEEN(3, EV_READY, 0, false);
	ASSERT_FALSE(pthread_equal(seen[3].thread, pthread_self()));
	fe_close(&fe);
	vhu_vhost_destroy(dev);
	ASSERT_EQ(vhu_fini(), 0);
	/* And once more: fini left nothing behind. */
	ASSERT_EQ(vhu_init(NULL), 0);
	ASSERT_EQ(vhu_fini(), 0);
}

/*
 * The front-end leaves a running device: the reset comes first and
 * device_stopping after it, yet until device_stopping returns the
 * application may still read guest memory (DPDK's destroy_device promise,
 * which vhu's librte_vhost.so.23 keeps): the memory goes only after.
 */
TEST(guest_memory_stays_mapped_until_device_stopping_returns)
{
	struct vhu_vhost_dev *dev;
	struct vhost_user_msg m;
	int before, mapped;
	struct fe fe;

	unit_pool(64);
	ASSERT_EQ(vhu_init(&app_params), 0);
	before = count_memfd_mappings();
	fe_device(&fe, &dev);
	fe_connect(&fe);
	fe_negotiate(&fe);
	fe_ring(&fe, 0, 0x10000);
	fe_ring(&fe, 1, 0x20000);
	pump();
	pump();
	ASSERT_EQ(n_seen, 4);
	ASSERT_SEEN(3, EV_READY, 0, false);
	mapped = count_memfd_mappings();
	ASSERT_TRUE(mapped > before);
	maps_at_stopping = -1;
	fe_close(&fe);
	pump();
	ASSERT_SEEN(4, EV_STOPPING, 0, false);
	ASSERT_EQ(maps_at_stopping, mapped);
	ASSERT_EQ(count_memfd_mappings(), before);

	/* Again, with the stop queued by GET_VRING_BASE and the disconnect
	 * handled in the same round, before the stop is delivered. */
	fe_connect(&fe);
	pump();
	n_seen = 0;
	fe_negotiate(&fe);
	fe_ring(&fe, 0, 0x10000);
	fe_ring(&fe, 1, 0x20000);
	pump();
	pump();
	ASSERT_EQ(count_memfd_mappings(), mapped);
	maps_at_stopping = -1;
	msg_state(&m, VHOST_USER_GET_VRING_BASE, 0, 0);
	fe_send(&fe, &m, NULL, 0);
	/* Half closed: the reply still goes out, then the backend reads the end. */
	ASSERT_EQ(shutdown(fe.sock, SHUT_WR), 0);
	pump();
	ASSERT_EQ(maps_at_stopping, mapped);
	ASSERT_EQ(count_memfd_mappings(), before);
	fe_close(&fe);
	vhu_vhost_destroy(dev);
	ASSERT_EQ(vhu_fini(), 0);
}
