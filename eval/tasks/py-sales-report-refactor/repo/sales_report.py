"""The weekly sales report."""


def _money(cents):
    return f"{cents // 100:,}.{cents % 100:02d}"


def build_report(rows):
    total = 0
    regions = {}
    products = {}
    orders = 0
    for row in rows:
        amount = row["quantity"] * row["unit_cents"]
        total += amount
        orders += 1
        regions[row["region"]] = regions.get(row["region"], 0) + amount
        products[row["product"]] = products.get(row["product"], 0) + amount

    lines = ["Weekly sales report", "==================="]
    if orders == 0:
        lines.append("No orders this week.")
        return "\n".join(lines) + "\n"
    lines.append(f"Orders: {orders}")
    lines.append(f"Total: {_money(total)}")
    lines.append("")
    lines.append("By region:")
    # Largest region first; ties in alphabetical order.
    for region, amount in sorted(regions.items(), key=lambda item: (-item[1], item[0])):
        share = amount * 100 / total if total else 0
        lines.append(f"  {region:<10} {_money(amount):>12}  ({share:.1f}%)")
    # Best seller; ties go to the alphabetically first product.
    top = min(products.items(), key=lambda item: (-item[1], item[0]))[0]
    lines.append("")
    lines.append(f"Top product: {top}")
    return "\n".join(lines) + "\n"
