"""Static choropleth maps and charts with matplotlib (for reports, slides and the England maps).

Colour-blind-safe palettes: viridis for deciles (1 = most deprived, dark) and PuOr for the rank
shift (purple = more deprived once digital exclusion counts). Every map says its direction in
the legend, and a synthetic build is stamped SYNTHETIC across the figure.
"""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

DECILES = plt.get_cmap("viridis", 10)
PUOR = ["#b35806", "#e08214", "#fdb863", "#fee0b6", "#f7f7f7", "#d8daeb", "#b2abd2", "#8073ac",
        "#542788"]
CHANGE_SHARES = [-0.15, -0.06, -0.015, -0.003, 0.003, 0.015, 0.06, 0.15]
ENGLAND_TOLERANCE = 0.001  # degrees: how far the England maps simplify each LSOA's outline

MAPS = {  # column -> (title, kind)
    "dedi_decile": ("DEDI decile", "decile"),
    "dx_decile": ("Digital exclusion (DX) decile", "decile"),
    "dedi_rank_change": ("Rank shift, IMD 2025 to DEDI", "change"),
    "imd_decile": ("IMD 2025 decile", "decile"),
    "imd_decile_change": ("IMD decile change, 2019 to 2025", "decile_change"),
}
# IMD decile 2025 - 2019: purple = towards the most deprived (as the explorer)
DECILE_CHANGE = ["#542788", "#8073ac", "#d8daeb", "#f7f7f7", "#fee0b6", "#e08214", "#b35806"]


def _polygons(geoms: np.ndarray, tolerance: float) -> tuple[list[np.ndarray], np.ndarray]:
    """Exterior rings of (simplified) polygons in a lon*cos(lat), lat projection, with the
    index of the feature each ring belongs to."""
    geoms = shapely.simplify(geoms, tolerance, preserve_topology=True) if tolerance else geoms
    parts, owner = shapely.get_parts(geoms, return_index=True)
    rings = shapely.get_exterior_ring(parts)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    lat0 = np.deg2rad(np.nanmean(coords[:, 1])) if len(coords) else 0.0
    coords[:, 0] *= np.cos(lat0)
    splits = np.flatnonzero(np.diff(ring_of)) + 1
    return np.split(coords, splits), owner[np.unique(ring_of)]


def _colours(values: pd.Series, kind: str, n: int) -> tuple[np.ndarray, list[Patch]]:
    if kind == "decile":
        v = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
        cols = DECILES(np.nan_to_num(v - 1, nan=0).astype(int))
        cols[np.isnan(v)] = (0.8, 0.8, 0.8, 1.0)
        legend = [Patch(color=DECILES(i), label=f"{i + 1}" + (" most deprived" if i == 0 else
                                                              " least" if i == 9 else ""))
                  for i in range(10)]
        return cols, legend
    if kind == "decile_change":
        v = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
        k = np.clip(np.round(np.nan_to_num(v)) + 3, 0, 6).astype(int)
        cols = ListedColormap(DECILE_CHANGE)(k)
        cols[np.isnan(v)] = (0.8, 0.8, 0.8, 1.0)
        labels = ["-3 or more (more deprived)", "-2", "-1", "0", "+1", "+2", "+3 or more (less)"]
        return cols, [*(Patch(color=c, label=lab) for c, lab in zip(DECILE_CHANGE, labels,
                                                                     strict=True)),
                      Patch(color=(0.8, 0.8, 0.8), label="not comparable")]
    breaks = [round(s * n) for s in CHANGE_SHARES]
    norm = BoundaryNorm([-np.inf, *breaks, np.inf], len(PUOR))
    cmap = ListedColormap(PUOR)
    cols = cmap(norm(values.fillna(0).to_numpy()))
    labels = [f"< {breaks[0]}", *[f"{a} to {b}" for a, b in zip(breaks, breaks[1:], strict=False)],
              f"> {breaks[-1]}"]
    legend = [Patch(color=c, label=lab) for c, lab in zip(PUOR, labels, strict=True)]
    legend[0].set_label(legend[0].get_label() + " (less deprived)")
    legend[-1].set_label(legend[-1].get_label() + " (more deprived)")
    return cols, legend


def choropleth(ax, gdf: gpd.GeoDataFrame, tolerance: float = 0.0, edge: bool = True
               ) -> tuple[PolyCollection, np.ndarray]:
    """Draw the (simplified) polygons of ``gdf`` (LSOAs, EPSG:4326) on ``ax``, uncoloured;
    returns them and the row of ``gdf`` each ring belongs to, for :func:`colour_by`."""
    rings, owner = _polygons(gdf.geometry.values, tolerance)
    pc = PolyCollection(rings, linewidths=0.15 if edge else 0,
                        edgecolors="white" if edge else "face")
    ax.add_collection(pc)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_axis_off()
    return pc, owner


def colour_by(ax, pc: PolyCollection, owner: np.ndarray, gdf: gpd.GeoDataFrame, column: str,
              n_national: int, title_prefix: str = "", title_size: float = 10,
              legend_size: float = 7, legend_below: bool = False) -> None:
    """Colour the polygons of :func:`choropleth` by ``column``, with its title and legend
    (beside the map, or below it in columns)."""
    title, kind = MAPS[column]
    colours, legend = _colours(gdf[column].reset_index(drop=True), kind, n_national)
    pc.set_facecolor(colours[owner])
    ax.set_title(title_prefix + title + {"decile": " (1 = most deprived)", "change":
                                         " (IMD rank - DEDI rank)"}.get(kind, ""),
                 fontsize=title_size)
    if ax.get_legend():
        ax.get_legend().remove()
    where = ({"loc": "upper center", "bbox_to_anchor": (0.5, 0.0), "ncol": 5 if kind == "decile"
              else 2} if legend_below else {"loc": "upper left", "bbox_to_anchor": (1.0, 1.0)})
    ax.legend(handles=legend, fontsize=legend_size, frameon=False, title="LSOAs",
              title_fontsize=legend_size, handlelength=1.2, columnspacing=0.8, **where)


def map_pngs(gdf: gpd.GeoDataFrame, columns: tuple[str, ...], n_national: int,
             synthetic: bool, figsize: tuple[float, float], dpi: int, edge: bool = True,
             tolerance: float = 0.0, title_prefix: str = "", title_size: float = 10,
             legend_size: float = 7, legend_below: bool = False) -> dict[str, bytes]:
    """One PNG per column of ``gdf``: the polygons are built and simplified once, then only
    recoloured for each map."""
    fig, ax = plt.subplots(figsize=figsize)
    stamp(fig, synthetic)
    pc, owner = choropleth(ax, gdf, tolerance, edge)
    out = {}
    for col in columns:
        colour_by(ax, pc, owner, gdf, col, n_national, title_prefix, title_size, legend_size,
                  legend_below)
        out[col] = png_bytes(fig, dpi=dpi, close=False)
    plt.close(fig)
    return out


def stamp(fig, synthetic: bool) -> None:
    if synthetic:
        fig.text(0.5, 0.5, "SYNTHETIC", fontsize=60, color="#b00020", alpha=0.25,
                 ha="center", va="center", rotation=25)
        fig.text(0.01, 0.01, "SYNTHETIC DEMO DATA - not real statistics", color="#b00020",
                 fontsize=9, fontweight="bold")


def png_bytes(fig, dpi: int = 110, close: bool = True) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    if close:
        plt.close(fig)
    return buf.getvalue()


def england_maps(gdf: gpd.GeoDataFrame, out_dir: Path, synthetic: bool,
                 columns: tuple[str, ...] = ("dedi_decile", "dx_decile", "dedi_rank_change"),
                 tolerance: float = ENGLAND_TOLERANCE) -> list[Path]:
    """One PNG per measure for all LSOAs of ``gdf`` (for slides); ``tolerance`` 0 for
    outlines already simplified (:func:`simplify_shapes`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = map_pngs(gdf, columns, len(gdf), synthetic, figsize=(8, 9), dpi=130, edge=False,
                    tolerance=tolerance, title_prefix="England LSOA 2021: ", title_size=11)
    paths = []
    for col, png in pngs.items():
        path = out_dir / f"england_{col}.png"
        path.write_bytes(png)
        paths.append(path)
    return paths


def simplify_shapes(table):
    """The England maps' outlines: an Arrow table (``lsoa21_code``, ``geometry_wkb`` in
    EPSG:4326) with each outline simplified by ``ENGLAND_TOLERANCE``, topology preserved: the
    same outlines :func:`england_maps` would draw from the full boundaries."""
    import pyarrow as pa

    geoms = shapely.from_wkb(np.asarray(table.column("geometry_wkb").to_pylist(), dtype=object))
    simple = shapely.simplify(geoms, ENGLAND_TOLERANCE, preserve_topology=True)
    return pa.table({"lsoa21_code": table.column("lsoa21_code"),
                     "geometry_wkb": pa.array(shapely.to_wkb(simple), type=pa.binary())})


def england_maps_from_table(table, out_dir: Path, synthetic: bool) -> list[Path]:
    """:func:`england_maps` of a query's Arrow table (``lsoa21_code``, the mapped columns,
    ``geometry_wkb``: the outlines of :func:`simplify_shapes`), replacing any England maps in
    ``out_dir``."""
    import duckdb

    df = duckdb.from_arrow(table).df()
    gdf = gpd.GeoDataFrame(df.drop(columns="geometry_wkb"), crs="EPSG:4326",
                           geometry=gpd.GeoSeries.from_wkb(df["geometry_wkb"].map(bytes)))
    for old in out_dir.glob("england_*.png"):
        old.unlink()
    return england_maps(gdf, out_dir, synthetic, tolerance=0.0)


def warm_up() -> None:
    """Load matplotlib's fonts and renderer once (a build does this in its side process)."""
    fig = plt.figure(figsize=(1, 1))
    fig.text(0.5, 0.5, "DEDI")
    png_bytes(fig)
