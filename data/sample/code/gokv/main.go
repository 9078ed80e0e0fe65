// Command gokv runs an in-memory key-value store behind a line protocol:
//
//	SET key value
//	GET key
//	DEL key
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"strings"

	"github.com/example/gokv/store"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7070", "listen address")
	flag.Parse()

	s := store.New()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	log.Printf("gokv listening on %s", *addr)
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Printf("accept: %v", err)
			continue
		}
		go handle(conn, s)
	}
}

func handle(conn net.Conn, s *store.Store) {
	defer conn.Close()
	scanner := bufio.NewScanner(conn)
	for scanner.Scan() {
		fields := strings.SplitN(strings.TrimSpace(scanner.Text()), " ", 3)
		switch strings.ToUpper(fields[0]) {
		case "SET":
			if len(fields) != 3 {
				fmt.Fprintln(conn, "ERR usage: SET key value")
				continue
			}
			s.Set(fields[1], fields[2])
			fmt.Fprintln(conn, "OK")
		case "GET":
			if v, ok := s.Get(fields[1]); ok {
				fmt.Fprintln(conn, v)
			} else {
				fmt.Fprintln(conn, "(nil)")
			}
		case "DEL":
			s.Delete(fields[1])
			fmt.Fprintln(conn, "OK")
		default:
			fmt.Fprintln(conn, "ERR unknown command")
		}
	}
}
