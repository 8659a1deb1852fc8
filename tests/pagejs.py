"""JavaScript snippets that browser tests evaluate in a page to read its Bokeh documents."""

from explorer import names, plots

# The model named ``name`` in any Bokeh document of the page, or null.
FIND = """(name) => {
  for (const doc of (window.Bokeh ? Bokeh.documents : [])) {
    const model = doc.get_model_by_name(name);
    if (model) return model;
  }
  return null;
}"""

# A short fingerprint of column ``column`` of the source named ``name``: enough to see any
# repaint, cheap to compare.
COLUMN = f"""([name, column]) => {{
  const source = ({FIND})(name);
  if (!source) return null;
  const values = Array.from(column === 'image' ? source.data.image[0] : source.data[column]);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * ((i % 97) + 1);
  return values.length + ':' + sum;
}}"""

# The decoded image's 784 values as the page holds them, or null before it has one.
IMAGE = f"""() => {{
  const source = ({FIND})('{names.IMAGE_SOURCE}');
  return source ? Array.from(source.data['{plots.IMAGE_COLUMN}'][0]) : null;
}}"""

# The value of the slider whose css_classes include ``css``.
SLIDER = """(css) => {
  for (const doc of Bokeh.documents)
    for (const model of doc.all_models)
      if (model.css_classes && model.css_classes.includes(css)) return model.value;
  return null;
}"""

# The title text of the figure that draws the bars' data source, as the page holds it.
BARS_TITLE = f"""() => {{
  for (const doc of Bokeh.documents)
    for (const model of doc.all_models)
      if (model.renderers && model.title && model.renderers.some(
            (r) => r.data_source && r.data_source.name === '{names.BARS_SOURCE}'))
        return model.title.text;
  return null;
}}"""
