// Entry point of `rethink ui`'s browser app.
import { render } from 'preact';
import { App } from './app';
import { RouterProvider } from './router';
import './style.css';

render(
  <RouterProvider>
    <App />
  </RouterProvider>,
  document.getElementById('app')!,
);
