// Package store is a concurrency-safe map with per-key versions.
package store

import "sync"

// Store maps keys to values. The zero value is not usable; call New.
type Store struct {
	mu       sync.RWMutex
	data     map[string]string
	versions map[string]uint64
}

// New returns an empty store.
func New() *Store {
	return &Store{data: make(map[string]string), versions: make(map[string]uint64)}
}

// Set stores value under key and bumps the key's version.
func (s *Store) Set(key, value string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = value
	s.versions[key]++
	return s.versions[key]
}

// Get returns the value for key and whether it was present.
func (s *Store) Get(key string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.data[key]
	return v, ok
}

// Delete removes key. Deleting a missing key is not an error.
func (s *Store) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, key)
}

// Len returns the number of keys.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.data)
}
