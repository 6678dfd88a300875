// app/paper-grid.cpp: see paper-grid.h. WebGL2 (OpenGL ES 3.0) only.
#include "paper-grid.h"
#include "shaders.h"  // generated: k_paper_grid_vert, k_paper_grid_frag

#include <GLES3/gl3.h>

#include <cstdio>

namespace {

unsigned compile_shader(GLenum type, const char *source, char *error, size_t error_size) {
    GLuint shader = glCreateShader(type);
    glShaderSource(shader, 1, &source, nullptr);
    glCompileShader(shader);
    GLint ok = GL_FALSE;
    glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (ok != GL_TRUE) {
        char log[400] = {0};
        glGetShaderInfoLog(shader, sizeof(log) - 1, nullptr, log);
        std::snprintf(error, error_size, "paper grid: %s shader does not compile: %s",
                      type == GL_VERTEX_SHADER ? "vertex" : "fragment", log);
        glDeleteShader(shader);
        return 0;
    }
    return shader;
}

void paper_grid_callback(const ImDrawList *, const ImDrawCmd *cmd) {
    const paper_grid_region &r = *static_cast<const paper_grid_region *>(cmd->UserCallbackData);
    const paper_grid &g = *r.grid;
    // ImGui's y grows downwards; GL's framebuffer y grows upwards.
    GLint x = static_cast<GLint>(r.min_px.x);
    GLint y = static_cast<GLint>(r.framebuffer_height_px - r.max_px.y);
    GLsizei w = static_cast<GLsizei>(r.max_px.x - r.min_px.x);
    GLsizei h = static_cast<GLsizei>(r.max_px.y - r.min_px.y);
    if (w <= 0 || h <= 0) return;
    // Clip to the command's clip rectangle (the ImGui window), like every other ImGui draw.
    GLint clip_x = static_cast<GLint>(cmd->ClipRect.x);
    GLint clip_y = static_cast<GLint>(r.framebuffer_height_px - cmd->ClipRect.w);
    glEnable(GL_SCISSOR_TEST);
    glScissor(clip_x, clip_y, static_cast<GLsizei>(cmd->ClipRect.z - cmd->ClipRect.x),
              static_cast<GLsizei>(cmd->ClipRect.w - cmd->ClipRect.y));
    glViewport(x, y, w, h);
    glDisable(GL_BLEND);
    glUseProgram(g.program);
    // Major-line origin at the paper's corner (GL y up), so the grid starts on a 5 mm line like paper.
    glUniform2f(g.u_origin_px, r.origin_px.x, r.framebuffer_height_px - r.origin_px.y);
    glUniform1f(g.u_px_per_mm, r.px_per_mm);
    glUniform3f(g.u_paper_rgb, 1.000f, 0.973f, 0.957f);
    glUniform3f(g.u_minor_rgb, 0.972f, 0.780f, 0.780f);
    glUniform3f(g.u_major_rgb, 0.898f, 0.451f, 0.451f);
    glUniform1f(g.u_line_px, r.px_per_mm >= 6.0f ? 1.5f : 1.0f);
    glBindVertexArray(g.vertex_array);
    glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
}

}  // namespace

bool paper_grid_init(paper_grid &grid) {
    GLuint vs = compile_shader(GL_VERTEX_SHADER, reinterpret_cast<const char *>(k_paper_grid_vert), grid.error,
                               sizeof(grid.error));
    if (!vs) return false;
    GLuint fs = compile_shader(GL_FRAGMENT_SHADER, reinterpret_cast<const char *>(k_paper_grid_frag), grid.error,
                               sizeof(grid.error));
    if (!fs) {
        glDeleteShader(vs);
        return false;
    }
    GLuint program = glCreateProgram();
    glAttachShader(program, vs);
    glAttachShader(program, fs);
    glLinkProgram(program);
    glDeleteShader(vs);
    glDeleteShader(fs);
    GLint ok = GL_FALSE;
    glGetProgramiv(program, GL_LINK_STATUS, &ok);
    if (ok != GL_TRUE) {
        char log[400] = {0};
        glGetProgramInfoLog(program, sizeof(log) - 1, nullptr, log);
        std::snprintf(grid.error, sizeof(grid.error), "paper grid: shaders do not link: %s", log);
        glDeleteProgram(program);
        return false;
    }
    grid.program = program;
    grid.u_origin_px = glGetUniformLocation(program, "u_origin_px");
    grid.u_px_per_mm = glGetUniformLocation(program, "u_px_per_mm");
    grid.u_paper_rgb = glGetUniformLocation(program, "u_paper_rgb");
    grid.u_minor_rgb = glGetUniformLocation(program, "u_minor_rgb");
    grid.u_major_rgb = glGetUniformLocation(program, "u_major_rgb");
    grid.u_line_px = glGetUniformLocation(program, "u_line_px");
    glGenVertexArrays(1, &grid.vertex_array);
    return true;
}

void paper_grid_shutdown(paper_grid &grid) {
    if (grid.program) glDeleteProgram(grid.program);
    if (grid.vertex_array) glDeleteVertexArrays(1, &grid.vertex_array);
    grid.program = grid.vertex_array = 0;
    grid.regions.clear();
}

void paper_grid_begin_frame(paper_grid &grid) { grid.regions.clear(); }

void paper_grid_draw(paper_grid &grid, ImDrawList *draw_list, ImVec2 min_px, ImVec2 max_px, float px_per_mm,
                     ImVec2 origin_px) {
    if (!grid.program) return;  // init failed: the region stays the window background, the error is shown
    const ImGuiIO &io = ImGui::GetIO();
    paper_grid_region &r = grid.regions.emplace_back();
    r.min_px = min_px;
    r.max_px = max_px;
    r.px_per_mm = px_per_mm;
    r.origin_px = origin_px;
    r.framebuffer_height_px = io.DisplaySize.y * io.DisplayFramebufferScale.y;
    r.grid = &grid;
    draw_list->AddCallback(paper_grid_callback, &r);
    draw_list->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
}
