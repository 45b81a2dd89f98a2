//! bellman gadgets over BLS12-381's scalar field.
