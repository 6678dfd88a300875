#version 300 es
// paper-grid.frag: ECG paper. Minor lines every 1 mm, major lines every 5 mm, drawn at true millimetres
// (u_px_per_mm comes from the device pixel ratio and the user's screen calibration), anti-aliased by
// pixel distance so lines stay one device pixel crisp at any zoom. Minor lines fade out when they would
// be closer than 3 px, which would otherwise alias into moire.
precision highp float;

uniform vec2 u_origin_px;     // framebuffer position (GL convention, y up) of a major-line crossing
uniform float u_px_per_mm;    // framebuffer pixels per millimetre of paper
uniform vec3 u_paper_rgb;
uniform vec3 u_minor_rgb;
uniform vec3 u_major_rgb;
uniform float u_line_px;      // line width of the minor lines in framebuffer pixels (major: 1.6x)

out vec4 frag_color;

// Coverage (0..1) of the nearest line of a family with the given period, for one axis.
float line_coverage(float position_mm, float period_mm, float width_px) {
    float distance_mm = abs(fract(position_mm / period_mm + 0.5) - 0.5) * period_mm;
    float distance_px = distance_mm * u_px_per_mm;
    return 1.0 - smoothstep(0.5 * width_px - 0.5, 0.5 * width_px + 0.5, distance_px);
}

void main() {
    vec2 position_mm = (gl_FragCoord.xy - u_origin_px) / u_px_per_mm;
    float minor = max(line_coverage(position_mm.x, 1.0, u_line_px), line_coverage(position_mm.y, 1.0, u_line_px));
    float major = max(line_coverage(position_mm.x, 5.0, 1.6 * u_line_px),
                      line_coverage(position_mm.y, 5.0, 1.6 * u_line_px));
    float minor_visibility = smoothstep(3.0, 5.0, u_px_per_mm);
    vec3 color = mix(u_paper_rgb, u_minor_rgb, minor * minor_visibility);
    color = mix(color, u_major_rgb, major);
    frag_color = vec4(color, 1.0);
}
