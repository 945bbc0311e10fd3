"""Stock levels per SKU."""


class Inventory:
    def __init__(self):
        self._stock = {}

    def add(self, sku, quantity):
        self._stock[sku] = self._stock.get(sku, 0) + quantity

    def remove(self, sku, quantity):
        self._stock[sku] = self._stock.get(sku, 0) - quantity

    def stock(self, sku):
        return self._stock.get(sku, 0)

    def report(self):
        """Lines like 'MUG-BLUE: 7', sorted by SKU."""
        return [f"{sku}: {qty}" for sku, qty in sorted(self._stock.items())]
