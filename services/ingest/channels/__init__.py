"""Channel-native formats -> canonical interactions: each adapter a pure function of the bytes."""
