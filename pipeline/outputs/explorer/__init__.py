"""``dedi explore``: the one-file offline explorer (HTML, CSS, and ``dedi.js``: the method ported)."""
