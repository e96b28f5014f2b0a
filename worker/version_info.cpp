// placeholder removed when worker code lands
