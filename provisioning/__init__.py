"""The provisioning backend: the order system and the network the workflow drives."""
