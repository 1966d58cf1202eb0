package socket

// How much of a sender's buffer a message takes: Linux charges a socket,
// against its send buffer, the truesize of every sk_buff it has in flight:
// the sk_buff itself, its head (from the kmalloc bucket that fits the
// linear bytes and the shared info) and the pages of its fragments. The
// constants are x86-64's, with 4 KiB pages; the rules are those of
// unix_stream_sendmsg and unix_dgram_sendmsg in Linux 6.18, and the
// results were checked against the kernel (SndBuf / truesize is how many
// messages fit: 278 of 1 byte, 93 of 1000, 49 of 2000, 24 stream writes of
// 8000, 13 datagrams of 8000).

// SndBuf is a socket's send buffer: net.core.wmem_default.
const SndBuf = 212992

const (
	pageSize = 4096
	// skbSize is SKB_DATA_ALIGN(sizeof(struct sk_buff)), shinfoSize
	// SKB_DATA_ALIGN(sizeof(struct skb_shared_info)).
	skbSize    = 256
	shinfoSize = 320
	// maxHead is SKB_MAX_HEAD(0): the linear bytes an order-0 head holds.
	maxHead = pageSize - shinfoSize
	// maxStreamSkb is the most one stream skb carries: SKB_MAX_HEAD(0)
	// plus UNIX_SKB_FRAGS_SZ (32 KiB of fragments).
	maxStreamSkb = maxHead + 32768
	// maxAlloc is SKB_MAX_ALLOC, the most a datagram keeps linear; beyond
	// it the rest (up to MAX_SKB_FRAGS pages) goes in fragments.
	maxAlloc  = 4*pageSize - shinfoSize
	maxFrags  = 17
	kmallocSz = 8192 // the largest kmalloc cache; larger heads take pages
)

// kmallocSize is what kmalloc gives for n bytes: the power-of-two cache
// that fits them, or whole pages (a power-of-two number) beyond 8 KiB.
func kmallocSize(n int) int {
	size := pageSize
	if n <= kmallocSz {
		size = 8
	}
	for size < n {
		size *= 2
	}
	return size
}

func align(n, to int) int { return (n + to - 1) / to * to }

// headTruesize is the truesize of an skb whose linear part holds n bytes.
func headTruesize(n int) int { return kmallocSize(align(n, 64)+shinfoSize) + skbSize }

// streamTruesize is the truesize of a stream skb of n bytes (at most
// maxStreamSkb): linear up to maxHead, then the rest in pages, with the
// head keeping what does not fill a whole page of fragments.
func streamTruesize(n int) int {
	if n <= maxHead {
		return headTruesize(n)
	}
	frags := min(n, align(n-maxHead, pageSize))
	return headTruesize(n-frags) + align(frags, pageSize)
}

// dgramTruesize is the truesize of a datagram or seqpacket message of n
// bytes.
func dgramTruesize(n int) int {
	frags := 0
	if n > maxAlloc {
		frags = align(min(n-maxAlloc, maxFrags*pageSize), pageSize)
	}
	return headTruesize(n-frags) + frags
}
