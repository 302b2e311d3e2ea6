//go:build faults

package faults

import (
	"io"
	"net"
	"sync"
	"testing"
)

// proxy stands between a node and the catcher. While stalled it passes
// the node's bytes on but holds back every byte of the catcher's answers,
// as a frozen SMTP server does whose kernel still takes data into its
// buffers: a mail sent in full is accepted, and the node never hears so.
type proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	stalled bool
	resumed chan struct{} // closed when a stall ends
	conns   map[*proxyConn]bool
}

type proxyConn struct {
	client, server net.Conn
	closed         chan struct{} // the node hung up
	once           sync.Once
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[*proxyConn]bool{}}
	t.Cleanup(func() {
		ln.Close()
		p.resume()
		p.mu.Lock()
		for c := range p.conns {
			c.hangUp()
		}
		p.mu.Unlock()
	})
	go p.accept()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		c := &proxyConn{client: client, server: server, closed: make(chan struct{})}
		p.mu.Lock()
		p.conns[c] = true
		p.mu.Unlock()
		go func() {
			io.Copy(server, client) // the node's bytes always pass
			c.hangUp()
			p.mu.Lock()
			delete(p.conns, c)
			p.mu.Unlock()
		}()
		go p.answer(c)
	}
}

// answer passes the catcher's bytes to the node, holding them while the
// proxy is stalled.
func (p *proxy) answer(c *proxyConn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.server.Read(buf)
		if n > 0 {
			p.mu.Lock()
			stalled, resumed := p.stalled, p.resumed
			p.mu.Unlock()
			if stalled {
				select {
				case <-resumed:
				case <-c.closed:
					return
				}
			}
			if _, werr := c.client.Write(buf[:n]); werr != nil {
				c.hangUp()
				return
			}
		}
		if err != nil {
			c.hangUp()
			return
		}
	}
}

func (c *proxyConn) hangUp() {
	c.once.Do(func() {
		close(c.closed)
		c.client.Close()
		c.server.Close()
	})
}

// stall starts holding answers back and returns the connections open now.
func (p *proxy) stall() []*proxyConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled, p.resumed = true, make(chan struct{})
	var open []*proxyConn
	for c := range p.conns {
		open = append(open, c)
	}
	return open
}

func (p *proxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled {
		p.stalled = false
		close(p.resumed)
	}
}
