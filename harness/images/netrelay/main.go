// netrelay sends its standard input to HOST:PORT over UDP (one datagram) or TCP and writes what
// comes back to standard output. The toolbox image carries it because busybox's small nc cannot
// do UDP: hardway's checks build DNS queries on the runner (dns-packet) and relay them from pods.
//
//	netrelay udp|tcp HOST:PORT [timeout-seconds]
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 3 || (os.Args[1] != "udp" && os.Args[1] != "tcp") {
		fmt.Fprintln(os.Stderr, "usage: netrelay udp|tcp HOST:PORT [timeout-seconds]")
		os.Exit(2)
	}
	timeout := 3 * time.Second
	if len(os.Args) > 3 {
		if s, err := strconv.Atoi(os.Args[3]); err == nil {
			timeout = time.Duration(s) * time.Second
		}
	}
	payload, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	conn, err := net.DialTimeout(os.Args[1], os.Args[2], timeout)
	if err != nil {
		fail("%v", err)
	}
	defer conn.Close()
	if _, err := conn.Write(payload); err != nil {
		fail("sending: %v", err)
	}
	// The first reply waits up to the timeout; anything after it may trail by a moment (TCP segments).
	buf := make([]byte, 65536)
	conn.SetReadDeadline(time.Now().Add(timeout))
	for got := false; ; {
		n, err := conn.Read(buf)
		if n > 0 {
			os.Stdout.Write(buf[:n])
			got = true
			if os.Args[1] == "udp" {
				return
			}
			conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		}
		if err != nil {
			if got {
				return
			}
			fail("no answer: %v", err)
		}
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "netrelay: "+format+"\n", args...)
	os.Exit(1)
}
