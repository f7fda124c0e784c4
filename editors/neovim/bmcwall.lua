-- Neovim (0.10+): start `bmcwall lsp` for .wall files.
vim.filetype.add({ extension = { wall = "bmcwall" } })
vim.api.nvim_create_autocmd("FileType", {
  pattern = "bmcwall",
  callback = function(args)
    vim.lsp.start({
      name = "bmcwall",
      cmd = { "bmcwall", "lsp" },
      root_dir = vim.fs.root(args.buf, { ".git", "bmcwall.toml" }),
    })
  end,
})
