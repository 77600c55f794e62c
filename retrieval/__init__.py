"""newsbot's answering engine: corpus → chunks → Chroma → cited answers."""
