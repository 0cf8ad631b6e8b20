// The requester portal (templates/portal): a link marked data-portal-focus="ID" moves the
// focus into that field (the "Reply" button of the waiting banner). Without JavaScript the
// link still scrolls to it. Here, not in an attribute: the policy allows no inline code.
document.addEventListener("click", (event) => {
  const link = event.target.closest?.("[data-portal-focus]");
  const field = link && document.getElementById(link.dataset.portalFocus);
  if (!field) return;
  event.preventDefault();
  field.scrollIntoView({block: "center", behavior: "smooth"});
  field.focus({preventScroll: true});
});
