package store

import (
	"fmt"
	"sync"
	"testing"
)

func TestSetGetDelete(t *testing.T) {
	s := New()
	if v := s.Set("a", "1"); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
	if got, ok := s.Get("a"); !ok || got != "1" {
		t.Fatalf("Get(a) = %q, %v", got, ok)
	}
	s.Delete("a")
	if _, ok := s.Get("a"); ok {
		t.Fatal("a still present after Delete")
	}
}

func TestConcurrentSet(t *testing.T) {
	s := New()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s.Set(fmt.Sprintf("k%d", i), "v")
		}(i)
	}
	wg.Wait()
	if s.Len() != 50 {
		t.Fatalf("Len = %d, want 50", s.Len())
	}
}
