#version 300 es
// paper-grid.vert: one rectangle covering the current viewport, from gl_VertexID alone (no attributes).
// The caller sets glViewport to the grid's rectangle and draws a 4-vertex triangle strip.
void main() {
    vec2 corner = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
